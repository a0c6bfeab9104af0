// Boost.URL compiled into the binary (its header-only mode: this file, once) instead of
// linking libboost_url.so. Only HTTP paths parse URLs; as a shared library it was mapped,
// relocated and initialised at every start, 140 KiB of an idle server's memory.
#include <boost/url/src.hpp>
