/* Build fence (CMakeLists.txt): only src/decompose/ talks to BLAS/LAPACK;
 * everything else asks it through src/decompose/td_decompose.h. */
#error "BLAS/LAPACK header included outside src/decompose/"
