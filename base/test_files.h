// For tests: reading fixtures and other files whole. Tests run with the source tree as their
// working directory (tacho_add_test), so fixture paths are relative to it.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace tacho::base::testing {

// The whole content of the file at `path`, or nullopt when it cannot be opened.
inline std::optional<std::string> ReadFileIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The whole content of a fixture that must exist: a missing one fails the test (and reads as "").
inline std::string ReadTestFile(const std::string& path) {
  std::optional<std::string> text = ReadFileIfExists(path);
  EXPECT_TRUE(text.has_value()) << "missing fixture " << path;
  return text.value_or("");
}

}  // namespace tacho::base::testing
