/* quotafs: the quota directory's filesystem side, for quota.c: the default directory and the
 * minute (declared in quota.h), the lock probe, and mount options that keep locks local. */
#ifndef GF_QUOTAFS_H
#define GF_QUOTAFS_H

#include "quota.h"

/* Check in DIR (which exists) that an OFD lock held on one open file description makes a
 * second one wait, and that it is granted once released. 0, or -1 with err (GF_ERR_CONFIG)
 * naming what failed. */
int quotafs_probe(const char *dir, struct gf_err *err);
/* Why locks in DIR would hold on this machine only (from /proc/self/mountinfo), as a new
 * string the caller frees; NULL when nothing says so. */
char *quotafs_local_lock_warning(const char *dir);

#endif
