/* run_records.h: reading what a run directory records (run_dir.h), for
 * alexnet-eval's `compare` and report: config.json and eval/report.json as
 * leaves by path (json_flatten.h), metrics.csv as a table of numbers
 * (metrics_csv.h). Each reader names the file in its errors. */
#ifndef ALEXNET_RUN_RECORDS_H
#define ALEXNET_RUN_RECORDS_H

#include "json_flatten.h"
#include "metrics_csv.h"
#include "status.h"

/* The sections of config.json (docs/FORMAT.md §3): the dataset trained on;
 * the settings that shape
 * a run's result, which `alexnet-eval compare` puts side by side, and where
 * and how it ran, which compare leaves out. Every alexnet-train option that
 * config.json records names its section in its key (train/train_options.c). */
#define RUN_CONFIG_DATASET "dataset"
#define RUN_CONFIG_NETWORK "network"
#define RUN_CONFIG_TRAINING "training"
#define RUN_CONFIG_EXECUTION "execution"

/* 1 when a config.json path ("network.towers") is a setting that shapes the result. */
int run_config_is_setting(const char *path);

/* RUN/config.json (written by alexnet-train). AN_ERR_IO when it cannot be read. */
an_status run_read_config(const char *run, json_flat *out);

/* RUN/eval/report.json (written by alexnet-eval). AN_ERR_IO saying to score
 * the run first when there is none. */
an_status run_read_report(const char *run, json_flat *out);

/* RUN/metrics.csv (written by alexnet-train). AN_ERR_IO when it cannot be read. */
an_status run_read_metrics(const char *run, metrics_table *out);

#endif
