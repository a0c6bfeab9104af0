# Writes a C++ source defining `std::string_view NAME()` with the bytes of INPUT, so a
# text file (the default draft template) is compiled into the binary rather than read at
# run time. Run as: cmake -DINPUT=… -DOUTPUT=… -DNAME=… -P embed_text.cmake
file(READ "${INPUT}" text)
set(delimiter "scribe_text")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
file(WRITE "${OUTPUT}.tmp"
     "// Generated from ${INPUT} by cmake/embed_text.cmake; do not edit.\n"
     "#include <string_view>\n\n"
     "namespace scribe {\n\n"
     "std::string_view ${NAME}() {\n"
     "  static constexpr std::string_view kText = R\"${delimiter}(${text})${delimiter}\";\n"
     "  return kText;\n"
     "}\n\n"
     "}  // namespace scribe\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
