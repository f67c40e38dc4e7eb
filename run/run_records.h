/* run_records.h: reading what a run directory records (run_dir.h), for
 * alexnet-eval's `compare` and report: config.json and eval/report.json as
 * leaves by path (json_flatten.h), metrics.csv as a table of numbers
 * (metrics_csv.h). Each reader names the file in its errors. */
#ifndef ALEXNET_RUN_RECORDS_H
#define ALEXNET_RUN_RECORDS_H

#include "json_flatten.h"
#include "metrics_csv.h"
#include "status.h"

/* RUN/config.json (written by alexnet-train). AN_ERR_IO when it cannot be read. */
an_status run_read_config(const char *run, json_flat *out);

/* RUN/eval/report.json (written by alexnet-eval). AN_ERR_IO saying to score
 * the run first when there is none. */
an_status run_read_report(const char *run, json_flat *out);

/* RUN/metrics.csv (written by alexnet-train). AN_ERR_IO when it cannot be read. */
an_status run_read_metrics(const char *run, metrics_table *out);

#endif
