/* directory.c: mkdir -p (directory.h). */
#include "directory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* One level: created, or already a directory. */
static an_status make_one(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return error_set(AN_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return error_set(AN_ERR_IO, "%s exists and is not a directory", path);
    return AN_OK;
}

an_status directory_make(const char *path)
{
    char buf[4096]; /* path, cut at each '/' in turn */
    if (!path || !path[0]) return error_set(AN_ERR_ARG, "an empty directory name");
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return error_set(AN_ERR_ARG, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/') continue;
        *p = '\0';
        an_status st = make_one(buf);
        *p = '/';
        if (st != AN_OK) return st;
    }
    return make_one(buf);
}
