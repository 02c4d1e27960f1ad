/* User-supplied POSIX extended regexes, bounded before regcomp. glibc's
 * regcomp copies the operand of a{m,n} n times and builds automata whose
 * size grows faster than linearly in the copies: '(.*){1,32767}' overflows
 * the stack and 'a{1,32767}' takes gigabytes. A node-name filter needs
 * none of that, so a pattern must stay within these bounds: */
#ifndef TD_REGEX_H
#define TD_REGEX_H

#include <regex.h>

#include "td_err.h"

/* Bytes of pattern text. */
#define TD_REGEX_MAX_LEN 1024
/* A count in {m}, {m,} or {m,n}: POSIX's _POSIX_RE_DUP_MAX, the bound every
 * conforming regcomp must accept, so a portable pattern never needs more. */
#define TD_REGEX_MAX_REPEAT 255
/* Nested groups. */
#define TD_REGEX_MAX_DEPTH 32
/* Atoms once every repetition is written out ((ab){3} counts 6 plus the
 * groups): glibc compiled the worst patterns within this bound in 0.25 s
 * and 10 MB; 'a{1,4096}' alone took 2.4 s and 130 MB. */
#define TD_REGEX_MAX_EXPANDED 4096

/* Checks pattern against the bounds above, then compiles it with
 * REG_EXTENDED | REG_NOSUB. TD_EUSAGE naming `what` (the option) and the
 * reason on refusal or a syntax error; on success *re must be regfree'd. */
td_status td_regex_compile(regex_t *re, const char *pattern, const char *what,
                           td_err_t *err);

#endif
