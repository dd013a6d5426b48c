// Helpers shared by the Redis collector's tests: fixtures, RESP decoding and sample lookups.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/metric_sink.h"
#include "agent/metric_sink_test_util.h"
#include "base/test_files.h"
#include "collectors/redis/replies.h"
#include "collectors/redis/resp.h"

namespace tacho::collectors::redis::testutil {

// Tests run with the source tree as working directory (tacho_add_test).
inline std::string Fixture(const std::string& name) {
  return base::testing::ReadTestFile("collectors/redis/testdata/" + name);
}

// The single reply a captured RESP fixture holds.
inline Reply FixtureReply(const std::string& name) {
  auto replies = DecodeResp(Fixture(name));
  EXPECT_TRUE(replies.ok()) << (replies.ok() ? "" : replies.error());
  if (!replies.ok() || replies->empty()) return Reply{};
  return replies->front();
}

using agent::testutil::Samples;

}  // namespace tacho::collectors::redis::testutil
