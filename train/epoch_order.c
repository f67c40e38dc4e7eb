/* epoch_order.c: the seeded epoch permutation and its slicing into batches. */
#include "epoch_order.h"

#include "philox.h"

void epoch_order_make(uint64_t seed, uint32_t epoch, uint32_t n, uint32_t *order)
{
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    /* Fisher-Yates from the top: position i swaps with j uniform in [0, i].
     * One philox block serves four positions (element = i / 4). The
     * multiply-high draw has a bias below n / 2^32, negligible for any
     * dataset that fits a uint32 id. */
    philox_block block = { { 0, 0, 0, 0 } };
    uint32_t have_block_for = UINT32_MAX;
    for (uint32_t i = n; i-- > 1;) {
        uint32_t element = i / 4;
        if (element != have_block_for) {
            block = philox_draw(seed, PHILOX_PURPOSE_SHUFFLE, epoch, 0, element);
            have_block_for = element;
        }
        uint32_t j = philox_below(block.v[i % 4], i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

uint64_t epoch_steps(uint64_t n, uint64_t batch)
{
    return batch ? (n + batch - 1) / batch : 0;
}

void epoch_batch_slice(uint64_t n, uint64_t batch, uint64_t step, int rank, int ranks,
                       uint64_t *begin, uint64_t *count)
{
    uint64_t start = step * batch;
    uint64_t size = start >= n ? 0 : (n - start < batch ? n - start : batch);
    uint64_t lo = size * (uint64_t)rank / (uint64_t)ranks;
    uint64_t hi = size * (uint64_t)(rank + 1) / (uint64_t)ranks;
    *begin = start + lo;
    *count = hi - lo;
}
