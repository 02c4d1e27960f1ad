/* The library's version, for programs to compare with the ONNXTD_VERSION
 * they were compiled against. */
#include "onnxtd.h"

const char *onnxtd_version(void)
{
    return ONNXTD_VERSION;
}
