/* directory.h: creating directories, the one mkdir of the project. */
#ifndef ALEXNET_DIRECTORY_H
#define ALEXNET_DIRECTORY_H

#include "status.h"

/* mkdir -p: creates path and every missing parent (mode 0755). AN_OK when
 * path already is a directory; AN_ERR_IO naming the part that cannot be
 * created or that exists and is not a directory; AN_ERR_ARG when path is
 * empty or longer than 4095 bytes. */
an_status directory_make(const char *path);

#endif
