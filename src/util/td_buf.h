/* A growable text buffer with JSON helpers. Out-of-memory is sticky: the
 * buffer remembers it and td_buf_take returns NULL, so builders need not
 * check every append. */
#ifndef TD_BUF_H
#define TD_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct td_buf {
    char *p;
    size_t len, cap;
    int oom;
    int need_comma;  /* JSON: a value was written at this nesting level */
} td_buf;

void td_buf_printf(td_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void td_buf_put(td_buf *b, const char *s, size_t n);
/* Returns the NUL-terminated text (caller frees) or NULL after OOM. */
char *td_buf_take(td_buf *b);
void td_buf_free(td_buf *b);

/* The sequence at s (n > 0 bytes left): returns how many bytes it spans
 * and sets *ok when they are well-formed UTF-8; when not, those bytes are
 * one maximal ill-formed subpart, to be replaced by one U+FFFD. */
size_t td_utf8_next(const char *s, size_t n, int *ok);

/* JSON. Objects and arrays nest; a key is written with td_json_key before
 * its value. Numbers that are not finite become null. */
void td_json_open(td_buf *b, char c);   /* '{' or '[' */
void td_json_close(td_buf *b, char c);  /* '}' or ']' */
void td_json_key(td_buf *b, const char *key);
/* Any bytes give a valid JSON string: control characters are escaped and
 * each ill-formed UTF-8 subpart becomes \ufffd. */
void td_json_str(td_buf *b, const char *s);
void td_json_strn(td_buf *b, const char *s, size_t n);
void td_json_int(td_buf *b, int64_t v);
void td_json_num(td_buf *b, double v);
void td_json_bool(td_buf *b, int v);
void td_json_null(td_buf *b);

#endif
