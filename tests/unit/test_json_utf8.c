/* The JSON string writer on arbitrary bytes: well-formed UTF-8 passes
 * through, control characters are escaped, and every maximal ill-formed
 * subpart (truncated, overlong, surrogate, past U+10FFFF, stray bytes)
 * becomes one \ufffd, so the output is valid JSON whatever a model's
 * names hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcheck.h"
#include "util/td_buf.h"

typedef struct json_case {
    const char *in;
    size_t len;       /* explicit: some inputs hold NUL */
    const char *out;  /* without the quotes */
} json_case;

#define C(s, out) {s, sizeof s - 1, out}
#define R "\\ufffd"

static const json_case cases[] = {
    C("abc", "abc"),
    C("", ""),
    /* well-formed, at the edges of each length and range */
    C("\xc2\x80", "\xc2\x80"),                  /* U+0080 */
    C("\xc3\xa9", "\xc3\xa9"),                  /* e acute */
    C("\xdf\xbf", "\xdf\xbf"),                  /* U+07FF */
    C("\xe0\xa0\x80", "\xe0\xa0\x80"),          /* U+0800 */
    C("\xe2\x82\xac", "\xe2\x82\xac"),          /* euro sign */
    C("\xed\x9f\xbf", "\xed\x9f\xbf"),          /* U+D7FF */
    C("\xee\x80\x80", "\xee\x80\x80"),          /* U+E000 */
    C("\xef\xbf\xbd", "\xef\xbf\xbd"),          /* U+FFFD itself */
    C("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"),  /* U+10000 */
    C("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),  /* emoji */
    C("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),  /* U+10FFFF */
    /* truncated: the whole prefix is one subpart */
    C("\xc3", R),
    C("\xe2\x82", R),
    C("\xf0\x9f\x98", R),
    C("x\xe2\x82y", "x" R "y"),
    C("\xf0\x9f\x98" "a", R "a"),
    C("\xe2\x82\xe2\x82\xac", R "\xe2\x82\xac"),
    /* overlong forms: the lead cannot start them, each byte one U+FFFD */
    C("\xc0\xaf", R R),
    C("\xc1\xbf", R R),
    C("\xe0\x80\xaf", R R R),
    C("\xe0\x9f\xbf", R R R),
    C("\xf0\x80\x80\x80", R R R R),
    C("\xf0\x8f\xbf\xbf", R R R R),
    /* surrogates U+D800..U+DFFF */
    C("\xed\xa0\x80", R R R),
    C("\xed\xbf\xbf", R R R),
    C("\xed\xa0\x80\xed\xb0\x80", R R R R R R),
    /* past U+10FFFF */
    C("\xf4\x90\x80\x80", R R R R),
    C("\xf5\x80\x80\x80", R R R R),
    C("\xf7\xbf\xbf\xbf", R R R R),
    /* bytes that are never UTF-8, stray continuations */
    C("\xff", R),
    C("\xfe\xff", R R),
    C("\x80", R),
    C("a\xbf" "b", "a" R "b"),
    /* escapes: quote, backslash, controls (NUL inside, explicit length) */
    C("a\"b\\c", "a\\\"b\\\\c"),
    C("a\0b", "a\\u0000b"),
    C("\n\t\x1f", "\\u000a\\u0009\\u001f"),
    C("\x7f", "\x7f"),
    C("\xc3\xa9\n\xff\"", "\xc3\xa9\\u000a" R "\\\""),
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const json_case *c = &cases[i];
        td_buf b = {0};
        td_json_strn(&b, c->in, c->len);
        char *got = td_buf_take(&b);
        size_t want_len = strlen(c->out) + 2;
        char *want = malloc(want_len + 1);
        CHECK(got && want);
        if (!got || !want) {
            free(got);
            free(want);
            continue;
        }
        snprintf(want, want_len + 1, "\"%s\"", c->out);
        CHECK_MSG(!strcmp(got, want), "case %zu: got %s, want %s", i, got,
                  want);
        free(got);
        free(want);
    }
    /* td_utf8_next alone: lengths and verdicts */
    int ok;
    CHECK(td_utf8_next("\xf0\x9f\x98\x80", 4, &ok) == 4 && ok);
    CHECK(td_utf8_next("\xf0\x9f\x98\x80", 3, &ok) == 3 && !ok);
    CHECK(td_utf8_next("\xed\xa0\x80", 3, &ok) == 1 && !ok);
    CHECK(td_utf8_next("A", 1, &ok) == 1 && ok);
    return TCHECK_DONE();
}
