// Every native failure is a kdsr::Error; the binding turns it into a JS Error.
// Messages name the op and what was wrong, so the user never sees a bare abort.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace kdsr {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Raised where a device allocation fails; the binding keeps it distinguishable (code 'ERR_KDSR_OOM').
struct OutOfMemory : Error {
  using Error::Error;
};

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace kdsr

// KDSR_CHECK(cond, "op", parts...) throws "Error in op: parts" when cond is false.
#define KDSR_CHECK(cond, op, ...)                                          \
  do {                                                                     \
    if (!(cond)) throw ::kdsr::Error(::kdsr::concat("Error in ", op, ": ", __VA_ARGS__)); \
  } while (0)
