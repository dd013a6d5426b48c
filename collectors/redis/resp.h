// hiredis replies converted into the Reply tree of replies.h. Only this file and connection.cc
// see hiredis types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "collectors/redis/replies.h"

struct redisReply;

namespace tacho::collectors::redis {

Reply ConvertReply(const redisReply& reply);

// Decodes raw RESP2 bytes as read from the wire (e.g. a captured fixture) into every complete
// reply they hold, with hiredis's own reader. An error for malformed input.
//   "*2\r\n$3\r\nget\r\n:5\r\n"  ->  [Array[String "get", Integer 5]]
Expected<std::vector<Reply>, std::string> DecodeResp(std::string_view bytes);

}  // namespace tacho::collectors::redis
