// A minimal harness for the native unit tests in this folder: each test program lists named cases;
// `prog` runs them all, `prog NAME` one, `prog --list` names them (test/native.test.ts runs each case
// under jest). A failing EXPECT ends its case with a message; the exit status is 0 when all passed.
#pragma once
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../../src/native/core/error.h"

namespace kdsr {
namespace testing {

struct Failure {
  std::string message;
};

using Cases = std::vector<std::pair<std::string, std::function<void()>>>;

inline int run_cases(int argc, char** argv, const Cases& cases) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& c : cases) std::printf("%s\n", c.first.c_str());
    return 0;
  }
  int failed = 0, ran = 0;
  for (const auto& c : cases) {
    if (argc == 2 && c.first != argv[1]) continue;
    ran++;
    try {
      c.second();
      std::printf("ok %s\n", c.first.c_str());
    } catch (const Failure& f) {
      failed++;
      std::fprintf(stderr, "FAIL %s: %s\n", c.first.c_str(), f.message.c_str());
    } catch (const std::exception& e) {
      failed++;
      std::fprintf(stderr, "FAIL %s: unexpected exception: %s\n", c.first.c_str(), e.what());
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "no test case named '%s' (--list names them)\n", argc == 2 ? argv[1] : "");
    return 2;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace testing
}  // namespace kdsr

// EXPECT(cond, message parts...): ends the case with file:line, the condition and the parts.
#define EXPECT(cond, ...)                                                                                          \
  do {                                                                                                             \
    if (!(cond)) throw ::kdsr::testing::Failure{::kdsr::concat(__FILE__, ":", __LINE__, ": expected ", #cond, " ", ##__VA_ARGS__)}; \
  } while (0)
