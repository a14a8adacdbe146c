/*
 * store_s3.h - the storage backend for S3-compatible object storage.
 *
 * Layout under the bucket's PREFIX (docs/SCALING.md "Files in object
 * storage"):
 *	PREFIX/PATH			stored files: one object each, with
 *					x-amz-meta-ftx-sha256 and -mtime
 *	PREFIX/DIR/			a directory: a zero-byte marker
 *	PREFIX/.users/USER/PATH		a user's own area, laid out the same
 *	PREFIX/.ftx/partial/KEY/OFFSET	an upload in progress: pieces of
 *					FTX_S3_PART bytes, OFFSET in hex
 * A file becomes visible only when its upload is complete and verified:
 * a PUT of the whole (small files) or a multipart upload assembled from
 * the pieces by server-side copies (CompleteMultipartUpload is atomic).
 * Any node of a cluster can resume an upload: its pieces are in the
 * store.  SECURITY: keys are built only from paths that passed
 * path_check, so no user reaches another's prefix or the metadata.
 */
#ifndef FTXD_STORE_S3_H
#define FTXD_STORE_S3_H

#include "s3.h"
#include "store.h"

/* Open the store in `bucket` under `prefix` ("" or "a/b", no slashes at
 * the ends), checking that the bucket answers and takes our keys. */
int store_s3_open(struct store **stp, const struct s3_conf *conf,
    const char *prefix, struct store_err *e);

#endif /* FTXD_STORE_S3_H */
