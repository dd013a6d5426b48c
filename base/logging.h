// Logging set-up: spdlog to stderr, text or JSON lines, with secret redaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tacho::base {

// Installs the default logger. `format` is "text" or "json"; `level` one of trace, debug,
// info, warn, error. Safe to call again (reload).
void SetupLogging(const std::string& level, const std::string& format);

// Every later log line has each of these values replaced by "<redacted>". Thread-safe; replaces
// the previous set.
void SetRedactedSecrets(std::vector<std::string> secrets);

// The redaction applied to log lines, for other outputs (status API, error texts): connection
// string passwords (RedactConnectionPasswords) and every registered secret.
std::string Redact(std::string text);

// A log message as the sink writes it: redacted, then JSON-escaped (json) or with its control
// characters escaped (text), so a message is always one line, whatever a peer put in it.
std::string LogPayload(std::string_view message, bool json);

// JSON string escaping (without the surrounding quotes).
std::string JsonEscape(std::string_view text);

}  // namespace tacho::base
