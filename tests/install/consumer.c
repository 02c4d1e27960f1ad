/* A program built against an installed onnxtd (tests/scripts/install_pkg.sh):
 *   consumer MODEL OUT MISSING
 * compresses MODEL to three quarters of its parameters into OUT, then loads MISSING, a
 * file that does not exist, and prints the error message it gets. */
#include <onnxtd.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    onnxtd_model *m = NULL;
    onnxtd_error err = {0};
    onnxtd_compress_options opts;
    int rc = 1;

    if (argc != 4) {
        fputs("usage: consumer MODEL OUT MISSING\n", stderr);
        return 2;
    }
    if (strcmp(onnxtd_version(), ONNXTD_VERSION) != 0) {
        fprintf(stderr, "consumer: library %s, header %s\n", onnxtd_version(),
                ONNXTD_VERSION);
        return 1;
    }
    onnxtd_compress_options_init(&opts);
    opts.budget.kind = ONNXTD_BUDGET_TARGET_PARAMS;
    opts.budget.value = 0.75;
    opts.allow_slower = 1;  /* the point is linking, not the speed rule */
    if (onnxtd_model_load(argv[1], NULL, &m, &err) != ONNXTD_OK ||
        onnxtd_compress(m, &opts, NULL, &err) != ONNXTD_OK ||
        onnxtd_model_save(m, argv[2], NULL, &err) != ONNXTD_OK) {
        fprintf(stderr, "consumer: %s\n", err.message);
        goto cleanup;
    }
    onnxtd_model_free(m);
    m = NULL;
    if (onnxtd_model_load(argv[3], NULL, &m, &err) != ONNXTD_EIO) {
        fprintf(stderr, "consumer: %s loaded or failed otherwise\n", argv[3]);
        goto cleanup;
    }
    printf("%s\n", err.message);
    rc = 0;
cleanup:
    onnxtd_model_free(m);
    return rc;
}
