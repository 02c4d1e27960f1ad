/* Build fence (CMakeLists.txt): src/decompose/ and src/util/ are numerics
 * and plumbing on plain buffers; they know nothing of ONNX. */
#error "ONNX/protobuf-c header included in src/decompose/ or src/util/"
