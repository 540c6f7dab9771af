/* hash.h — message digests over libcrypto: SHA-256 of files and buffers,
 * and any named algorithm for wheel RECORD checks. */
#ifndef PYTI_HASH_H
#define PYTI_HASH_H

#include <stddef.h>

#include "common/err.h"

#define PYTI_SHA256_HEX_LEN 64
#define PYTI_DIGEST_MAX 64 /* bytes; enough for SHA-512 */

/* Lowercase hex SHA-256 of data into hex (65 bytes incl. NUL). */
void hash_sha256_hex(const void *data, size_t len, char hex[PYTI_SHA256_HEX_LEN + 1]);
/* Lowercase hex SHA-256 of a file's contents; size (if not NULL) gets its
 * length in bytes. */
pyti_status hash_sha256_file(const char *path, char hex[PYTI_SHA256_HEX_LEN + 1],
                             unsigned long long *size, pyti_error *err);

/* Digest of a file with the algorithm named as in wheel RECORD files
 * ("sha256", "sha384", "sha512", ...). out must hold PYTI_DIGEST_MAX bytes;
 * *out_len gets the digest length. Unknown or weak algorithms (md5, sha1)
 * are PYTI_ERR_INPUT. */
pyti_status hash_file_named(const char *path, const char *algo, unsigned char *out,
                            size_t *out_len, unsigned long long *size, pyti_error *err);

/* "sha256=<urlsafe-b64-nopad digest>" of data, as a wheel RECORD writes
 * it; new string. */
char *hash_record_sha256(const void *data, size_t len);

/* URL-safe base64 without padding (as in RECORD) of data into a new string. */
char *hash_urlsafe_b64_nopad(const unsigned char *data, size_t len);
/* Lowercase hex of data into a new string. */
char *hash_hex(const unsigned char *data, size_t len);

#endif
