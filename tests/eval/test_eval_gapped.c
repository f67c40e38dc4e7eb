/* test_eval_gapped.c: alexnet-eval on a dataset whose image ids have gaps.
 * alexnet-prep leaves the id of every input it refuses unused (docs/FORMAT.md
 * 1.1), so ids run below num_{split}_ids, not below num_{split}. The dataset
 * here is real: a folder collection with one unreadable file per split
 * (tests/train/make_folder_source) prepared by the real alexnet-prep with
 * --max-bad 2. Both splits are scored by the real alexnet-eval, and by the
 * scorer in-process, where the tally's per-id marks show that every stored
 * image was scored exactly once and no refused id was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dataset.h"
#include "eval_fixture.h"
#include "eval_model.h"
#include "eval_score.h"

typedef fixture_prepared fixture;

static int setup(void **state)
{
    *state = fixture_prepared_new("test-eval-gapped", 4);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_prepared_free(*state);
    return 0;
}

/* The dataset really has gaps: each split has one id more than images. */
static void test_dataset_has_gaps(void **state)
{
    fixture *f = *state;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->data), AN_OK);
    assert_int_equal(d->train.num_images, 8);
    assert_int_equal(d->train.id_count, 9);
    assert_int_equal(d->val.num_images, 4);
    assert_int_equal(d->val.id_count, 5);
    dataset_close(d);
}

/* The program scores each split: report.json counts every stored image,
 * per class as dataset.h5 counts them. The figures (which pick images by
 * their place in the split, not by id) are drawn from the gapped splits too. */
static void test_program_scores_gapped_splits(void **state)
{
    fixture *f = *state;
    const char *splits[2] = {"val", "train"};
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->data), AN_OK);
#ifdef ALEXNET_EVAL_HAVE_FIGURES
    const char *figures = "--figures --train-sample 8";
#else
    const char *figures = "";
#endif
    for (int s = 0; s < 2; s++) {
        assert_int_equal(fixture_run("'%s' --quiet --data '%s' --checkpoint '%s' --split %s --batch 3 --device cpu "
                                     "%s --out '%s/eval-%s' > /dev/null",
                                     f->program, f->data, f->ckpt, splits[s], figures, f->dir, splits[s]),
                         0);
#ifdef ALEXNET_EVAL_HAVE_FIGURES
        char figure[1024];
        snprintf(figure, sizeof figure, "%s/eval-%s/figures/neighbours.png", f->dir, splits[s]);
        assert_int_equal(access(figure, R_OK), 0);
#endif
        if (fixture_run("python3 -c 'import json' 2> /dev/null") != 0) continue;
        const dataset_split *ds = dataset_get_split(d, splits[s]);
        char counts[256] = "";
        for (int c = 0; c < d->num_classes; c++)
            snprintf(counts + strlen(counts), sizeof counts - strlen(counts), "%s%lld", c ? "," : "",
                     (long long)ds->class_counts[c]);
        assert_int_equal(fixture_run("python3 -c 'import json; r=json.load(open(\"%s/eval-%s/report.json\"));"
                                     "assert r[\"images\"]==%llu and r[\"images_in_split\"]==%llu, r[\"images\"];"
                                     "assert [c[\"images\"] for c in r[\"per_class\"]]==[%s]'",
                                     f->dir, splits[s], (unsigned long long)ds->num_images,
                                     (unsigned long long)ds->num_images, counts),
                         0);
    }
    dataset_close(d);
}

/* In-process: every stored id marked once, refused ids never, nothing else. */
static void test_every_stored_image_scored_once(void **state)
{
    fixture *f = *state;
    const char *splits[2] = {"val", "train"};
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->data), AN_OK);
    net *n = NULL;
    checkpoint_meta meta;
    assert_int_equal(eval_model_load(f->ckpt, d, 3 * 10, NULL, &n, &meta), AN_OK);
    for (int s = 0; s < 2; s++) {
        eval_split split;
        assert_int_equal(eval_split_open(&split, d, splits[s]), AN_OK);
        const uint32_t id_count = split.id_count;
        assert_int_equal(id_count, dataset_get_split(d, splits[s])->id_count);
        tally t;
        assert_int_equal(tally_init(&t, d->num_classes, id_count), AN_OK);
        eval_image *images = calloc(split.num_images, sizeof *images);
        assert_non_null(images);
        uint64_t scored = 0;
        eval_score_options o = {.batch_images = 3};
        assert_int_equal(eval_score_split(n, &split, d->mean_image, &o, &t, images, &scored), AN_OK);
        assert_int_equal(scored, split.num_images);
        assert_int_equal(t.images, (int64_t)split.num_images);
        /* stored ids, from the shards themselves */
        uint8_t *stored = calloc(id_count, 1);
        assert_non_null(stored);
        for (int sh = 0; sh < split.num_shards; sh++)
            for (size_t i = 0; i < split.shards[sh]->count; i++) {
                uint32_t id = split.shards[sh]->image_ids[i];
                assert_true(id < id_count);
                assert_int_equal(stored[id], 0);
                stored[id] = 1;
            }
        int gaps = 0;
        for (uint32_t id = 0; id < id_count; id++) {
            assert_int_equal(t.seen[id], stored[id]);
            gaps += !stored[id];
        }
        assert_int_equal(gaps, (int)(id_count - split.num_images));
        assert_true(gaps > 0);
        free(stored);
        free(images);
        tally_free(&t);
        eval_split_close(&split);
    }
    net_destroy(n);
    dataset_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_has_gaps),
        cmocka_unit_test(test_program_scores_gapped_splits),
        cmocka_unit_test(test_every_stored_image_scored_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
