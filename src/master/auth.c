/* auth.c — who a request is: the token of its Authorization header
 * ("Bearer TOKEN", or HTTP Basic with the token as password, which is how
 * twine sends it) against the configured tokens.
 *
 * Tokens are kept as SHA-256 digests and compared with CRYPTO_memcmp over
 * every configured token without stopping at a match, so the time a
 * check takes says nothing about which token matched or how many leading
 * bytes of a guess were right. */
#include "master/master_internal.h"
#include "common/xalloc.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MAX 4096

void master_settings_add_token(master_settings *st, const char *token, master_role role)
{
    if (!token || !*token)
        return;
    st->tokens = xreallocarray(st->tokens, st->ntokens + 1, sizeof *st->tokens);
    master_token *t = &st->tokens[st->ntokens++];
    SHA256((const unsigned char *)token, strlen(token), t->digest);
    t->role = role;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

char *master_base64_decode(const char *in, size_t max)
{
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1 || n / 4 * 3 + 3 > max + 3)
        return NULL;
    char *out = xmalloc(n / 4 * 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    if (o > max || memchr(out, '\0', o)) {
        free(out);
        return NULL;
    }
    return out;
}

master_role master_auth_role(const master_settings *st, const char *authorization)
{
    if (!authorization)
        return ROLE_NONE;
    const char *tok = NULL;
    char *decoded = NULL;
    if (strncasecmp(authorization, "Bearer ", 7) == 0) {
        tok = authorization + 7;
    } else if (strncasecmp(authorization, "Basic ", 6) == 0) {
        decoded = master_base64_decode(authorization + 6, TOKEN_MAX);
        char *colon = decoded ? strchr(decoded, ':') : NULL;
        tok = colon ? colon + 1 : NULL;
    }
    while (tok && *tok == ' ')
        tok++;
    if (!tok || !*tok || strlen(tok) > TOKEN_MAX) {
        free(decoded);
        return ROLE_NONE;
    }
    unsigned char d[32];
    SHA256((const unsigned char *)tok, strlen(tok), d);
    free(decoded);
    master_role best = ROLE_NONE;
    for (size_t i = 0; i < st->ntokens; i++) {
        /* No early exit and no data-dependent branch on the comparison. */
        unsigned match = (unsigned)(CRYPTO_memcmp(d, st->tokens[i].digest, sizeof d) == 0);
        unsigned better = (unsigned)(st->tokens[i].role > best);
        unsigned take = match & better;
        best = (master_role)((take * (unsigned)st->tokens[i].role) | ((1u - take) * (unsigned)best));
    }
    return best;
}
