#include "base/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "base/text.h"

namespace tacho::base {

namespace {

std::shared_mutex secrets_mutex;
std::vector<std::string> secrets;

// Formats to stderr; redacts secrets from the message and, for JSON, escapes it.
class RedactingStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingStderrSink(bool json) : json_(json) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string text = LogPayload({msg.payload.data(), msg.payload.size()}, json_);
    spdlog::details::log_msg copy = msg;
    copy.payload = text;
    spdlog::memory_buf_t formatted;
    formatter_->format(copy, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool json_;
};

}  // namespace

std::string LogPayload(std::string_view message, bool json) {
  std::string text = Redact(std::string(message));
  return json ? JsonEscape(text) : EscapeControlCharacters(text);
}

std::string Redact(std::string text) {
  text = RedactConnectionPasswords(text);
  std::shared_lock lock(secrets_mutex);
  for (const std::string& secret : secrets) {
    for (std::size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), "<redacted>");
      pos += 10;
    }
  }
  return text;
}

void SetRedactedSecrets(std::vector<std::string> values) {
  std::erase_if(values, [](const std::string& s) { return s.empty(); });
  std::unique_lock lock(secrets_mutex);
  secrets = std::move(values);
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void SetupLogging(const std::string& level, const std::string& format) {
  const bool json = format == "json";
  auto sink = std::make_shared<RedactingStderrSink>(json);
  if (json) {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
        spdlog::pattern_time_type::utc));
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc));
  }
  auto logger = std::make_shared<spdlog::logger>("tacho", std::move(sink));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace tacho::base
