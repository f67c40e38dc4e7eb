/* ten_crop.c: where the corner, centre and mirrored 224x224 views (§4.1)
 * lie; the backend's input op cuts them (ten_crop.h). */
#include "ten_crop.h"

#include <stddef.h>


crop_choice ten_crop_view(int v)
{
    enum { M = IMAGE_MAX_OFFSET, C = IMAGE_CENTRE_OFFSET }; /* 32, 16 */
    /* (y, x) of the five unmirrored views: four corners, then the centre. */
    static const int origin[5][2] = {{0, 0}, {0, M}, {M, 0}, {M, M}, {C, C}};
    int base = v % 5;
    crop_choice view = {.x = origin[base][1], .y = origin[base][0], .flip = v >= 5}; /* shift 0: no lighting */
    return view;
}
