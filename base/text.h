// Small text helpers shared by every module.
#pragma once

#include <string>
#include <string_view>

namespace tacho::base {

// A server's (possibly multi-line) message as one log line: runs of newlines, tabs and spaces
// become one space, leading and trailing space trimmed.
//   "ERROR:  relation \"x\" does not exist\nLINE 1: ..." -> "ERROR: relation \"x\" does not exist LINE 1: ..."
std::string OneLine(std::string_view text);

}  // namespace tacho::base
