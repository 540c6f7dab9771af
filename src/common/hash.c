/* hash.c — digests via OpenSSL libcrypto's EVP interface (see hash.h). */
#include "common/hash.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char hexdigits[] = "0123456789abcdef";

char *hash_hex(const unsigned char *data, size_t len)
{
    char *out = xmalloc(len * 2 + 1);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdigits[data[i] >> 4];
        out[2 * i + 1] = hexdigits[data[i] & 15];
    }
    out[len * 2] = '\0';
    return out;
}

void hash_sha256_hex(const void *data, size_t len, char hex[PYTI_SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < mdlen; i++) {
        hex[2 * i] = hexdigits[md[i] >> 4];
        hex[2 * i + 1] = hexdigits[md[i] & 15];
    }
    hex[PYTI_SHA256_HEX_LEN] = '\0';
}

static const EVP_MD *md_by_name(const char *algo)
{
    /* Accepted as in pip: the sha2 family (and sha3/blake2 where present);
     * md5 and sha1 are refused as too weak to vouch for a file. */
    static const char *const allowed[] = {"sha224", "sha256", "sha384", "sha512",
                                          "sha3_256", "sha3_384", "sha3_512",
                                          "blake2b", NULL};
    for (size_t i = 0; allowed[i]; i++) {
        if (strcmp(algo, allowed[i]) == 0) {
            if (strcmp(algo, "blake2b") == 0)
                return EVP_blake2b512();
            if (str_startswith(algo, "sha3_")) {
                char name[16];
                snprintf(name, sizeof name, "SHA3-%s", algo + 5);
                return EVP_get_digestbyname(name);
            }
            return EVP_get_digestbyname(algo);
        }
    }
    return NULL;
}

pyti_status hash_file_named(const char *path, const char *algo, unsigned char *out,
                            size_t *out_len, unsigned long long *size, pyti_error *err)
{
    const EVP_MD *md = md_by_name(algo);
    if (!md)
        return pyti_error_set(err, PYTI_ERR_INPUT, "unsupported hash algorithm '%s'", algo);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                                "opening %s", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL)) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "cannot initialise %s digest", algo);
    }
    unsigned long long total = 0;
    unsigned char chunk[65536];
    pyti_status rc = PYTI_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "reading %s", path);
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, chunk, (size_t)n);
        total += (unsigned long long)n;
    }
    close(fd);
    if (rc == PYTI_OK) {
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx, out, &len);
        *out_len = len;
        if (size)
            *size = total;
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

pyti_status hash_sha256_file(const char *path, char hex[PYTI_SHA256_HEX_LEN + 1],
                             unsigned long long *size, pyti_error *err)
{
    unsigned char md[PYTI_DIGEST_MAX];
    size_t len = 0;
    pyti_status rc = hash_file_named(path, "sha256", md, &len, size, err);
    if (rc != PYTI_OK)
        return rc;
    char *h = hash_hex(md, len);
    memcpy(hex, h, PYTI_SHA256_HEX_LEN + 1);
    free(h);
    return PYTI_OK;
}

char *hash_urlsafe_b64_nopad(const unsigned char *data, size_t len)
{
    /* EVP_EncodeBlock writes standard padded base64; RECORD wants the
     * URL-safe alphabet without padding (PEP 376 / 427). */
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    return out;
}

char *hash_record_sha256(const void *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    char *b64 = hash_urlsafe_b64_nopad(md, mdlen);
    char *out = xasprintf("sha256=%s", b64);
    free(b64);
    return out;
}
