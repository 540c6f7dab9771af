/* jsonutil.c — jansson helpers for untrusted text and files (see jsonutil.h). */
#include "common/jsonutil.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/str.h"

#include <stdlib.h>
#include <string.h>

json_t *json_textn(const char *s, size_t len)
{
    if (!s)
        return json_null();
    if (str_valid_utf8(s, len))
        return json_stringn(s, len);
    /* Repair: copy valid sequences, replace each bad byte with U+FFFD. */
    pyti_buf b = PYTI_BUF_INIT;
    size_t i = 0;
    while (i < len) {
        size_t n = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0xF0) n = 4;
        else if (c >= 0xE0) n = 3;
        else if (c >= 0xC0) n = 2;
        if (c < 0x80 || (i + n <= len && str_valid_utf8(s + i, n))) {
            buf_append(&b, s + i, n);
            i += n;
        } else {
            buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    json_t *j = json_stringn(b.data ? b.data : "", b.len);
    buf_free(&b);
    return j;
}

json_t *json_text(const char *s)
{
    return s ? json_textn(s, strlen(s)) : json_null();
}

void json_set_text(json_t *obj, const char *key, const char *s)
{
    json_object_set_new(obj, key, json_text(s));
}

const char *json_get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

char *json_dump_pretty(const json_t *value)
{
    char *s = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s)
        return strdup("null\n");
    size_t len = strlen(s);
    char *out = realloc(s, len + 2);
    if (!out)
        return s;
    out[len] = '\n';
    out[len + 1] = '\0';
    return out;
}

pyti_status json_write_file(const json_t *value, const char *path, pyti_error *err)
{
    char *s = json_dump_pretty(value);
    pyti_status rc = path_write_file_atomic(path, s, strlen(s), err);
    free(s);
    return rc;
}

pyti_status json_write_file_unsynced(const json_t *value, const char *path, pyti_error *err)
{
    char *s = json_dump_pretty(value);
    pyti_status rc = path_write_file_scratch(path, s, strlen(s), err);
    free(s);
    return rc;
}

json_t *json_read_file(const char *path, size_t max, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    if (path_read_file(path, max, &b, err) != PYTI_OK) {
        buf_free(&b);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(buf_cstr(&b), b.len, JSON_REJECT_DUPLICATES, &jerr);
    buf_free(&b);
    if (!j)
        pyti_error_set(err, PYTI_ERR_INPUT, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
                       jerr.column, jerr.text);
    return j;
}
