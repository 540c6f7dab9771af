/* pep508_internal.h — the context-sensitive tokenizer of packaging 23.0's
 * PEP 508 parser (packaging/_tokenizer.py), and the marker parser that
 * marker.c and requirement.c share. Private to src/pkg.
 *
 * Every token function matches at t->pos like re.match(source, pos) and
 * returns the token's length in bytes, 0 when it does not match; nothing is
 * consumed until pep508_advance. Word boundaries (\b) use Python's Unicode
 * notion of word characters, and see the text before pos, as re does. */
#ifndef PYTI_PEP508_INTERNAL_H
#define PYTI_PEP508_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "pkg/marker.h"

/* Deepest nesting of parentheses in a marker (Python itself stops with a
 * RecursionError a few hundred levels down). */
#define PYTI_MARKER_MAX_DEPTH 100
/* Longest marker or requirement string accepted, in bytes. */
#define PYTI_PEP508_MAX_LEN (64 * 1024)

typedef struct pep508_tok {
    const char *s;
    size_t n;
    size_t pos;
    const char *kind;  /* "marker" or "requirement", for messages */
    int depth;
} pep508_tok;

size_t pep508_ws(const pep508_tok *t);          /* [ \t]+ */
size_t pep508_quoted(const pep508_tok *t);      /* '[^']*' | "[^"]*" */
size_t pep508_op(const pep508_tok *t);          /* === == ~= != <= >= < > */
size_t pep508_boolop(const pep508_tok *t);      /* \b(or|and)\b */
size_t pep508_in(const pep508_tok *t);          /* \bin\b */
size_t pep508_not(const pep508_tok *t);         /* \bnot\b */
size_t pep508_variable(const pep508_tok *t);    /* \b(python_version|...)\b */
size_t pep508_specifier(const pep508_tok *t);   /* one version clause */
size_t pep508_url(const pep508_tok *t);         /* [^ \t]+ */
size_t pep508_identifier(const pep508_tok *t);  /* \b[a-zA-Z0-9][a-zA-Z0-9._-]*\b */
bool pep508_end(const pep508_tok *t);           /* $ (also before a final \n) */
/* Matches the single character c. */
size_t pep508_char(const pep508_tok *t, char c);

void pep508_advance(pep508_tok *t, size_t len);
void pep508_skip_ws(pep508_tok *t);

/* Sets err to "<kind> '<text>': <what> at column N" for position at. */
pyti_status pep508_error(const pep508_tok *t, size_t at, pyti_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A marker expression as packaging keeps it: a list of atoms joined by
 * "and"/"or", each atom an item (lhs op rhs) or a parenthesised list. */
typedef struct mvar {
    bool is_variable;  /* Variable (environment name) or Value (string) */
    char *text;
} mvar;

typedef struct mnode mnode;
struct mnode {
    bool is_item;
    mvar lhs, rhs;     /* item */
    char *op;          /* item: "==", "in", "not in", ... */
    size_t n;          /* list: number of atoms */
    mnode **atoms;
    bool *is_or;       /* list: is_or[i] joins atoms[i] and atoms[i+1] */
};

/* _parse_marker: parses at t->pos, leaving t->pos after the expression.
 * NULL with err on a syntax error. */
mnode *pep508_parse_marker(pep508_tok *t, pyti_error *err);
/* _normalize_extra_values on a freshly parsed top-level list. */
void pep508_normalize_extra(mnode *list);
void mnode_free(mnode *m);
/* Wraps a parsed top-level list (takes ownership). */
pyti_marker *marker_from_node(mnode *list);

#endif
