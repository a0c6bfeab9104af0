#include "storage/postgres_libpq.h"

#include <dlfcn.h>

#include <string>

#include <fmt/format.h>

#include "storage/store.h"

namespace scribe::pg {
namespace {

[[noreturn]] void missing(const char* file, const char* why) {
  throw StoreError(fmt::format("PostgreSQL support needs libpq ({}): {}", file,
                               why != nullptr ? why : "unknown error"));
}

// `name` from the loaded library; when it is missing, closes the library and throws.
void* resolve(void* handle, const char* file, const char* name) {
  ::dlerror();  // a stale error must not be taken for this lookup's
  void* fn = ::dlsym(handle, name);
  if (fn == nullptr) {
    const char* why = ::dlerror();
    const std::string message = why != nullptr ? why : fmt::format("{} is missing", name);
    ::dlclose(handle);
    missing(file, message.c_str());
  }
  return fn;
}

}  // namespace

LibPq load_libpq(const char* file) {
  // RTLD_NOW: a libpq whose own dependencies are broken fails here, with the loader's
  // message, rather than at a later call. RTLD_LOCAL: nothing else binds to its symbols.
  void* handle = ::dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) missing(file, ::dlerror());
  LibPq table;
#define SCRIBE_LIBPQ_RESOLVE(name) \
  table.name = reinterpret_cast<decltype(table.name)>(resolve(handle, file, #name));
  SCRIBE_LIBPQ_FUNCTIONS(SCRIBE_LIBPQ_RESOLVE)
#undef SCRIBE_LIBPQ_RESOLVE
  // The handle stays open: the table points into the library for the life of the process.
  return table;
}

}  // namespace scribe::pg
