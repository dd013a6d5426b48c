// Small text helpers shared by every module.
#pragma once

#include <string>
#include <string_view>

namespace tacho::base {

// A server's (possibly multi-line) message as one log line: runs of newlines, tabs and spaces
// become one space, leading and trailing space trimmed.
//   "ERROR:  relation \"x\" does not exist\nLINE 1: ..." -> "ERROR: relation \"x\" does not exist
//   LINE 1: ..."
std::string OneLine(std::string_view text);

// The text with every control character (below 0x20, and 0x7F) written as an escape: \n, \r,
// \t, else \xHH. For text log lines that carry what a peer sent (a receiver's response body, a
// server's error): one event stays one line, and no terminal escape reaches the operator.
//   "bad\nFORGED LINE\x1b[2J" -> "bad\\nFORGED LINE\\x1B[2J"
std::string EscapeControlCharacters(std::string_view text);

// Label values must be valid UTF-8 (Prometheus rejects the whole exposition otherwise), but
// servers and applications hand over names in any encoding. Valid UTF-8 comes back unchanged;
// otherwise each byte that is not part of a valid sequence becomes "\xE9" and each backslash
// "\\", so the escape is reversible and two names that differ only in invalid bytes stay two.
//   "tabl\xE9" (one byte 0xE9) -> "tabl\\xE9" (the four characters \ x E 9)
bool IsValidUtf8(std::string_view text);
// The length of the valid UTF-8 sequence that starts at text[i] (1-4), or 0 where none does
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i);
std::string EscapeInvalidUtf8(std::string_view text);

// The text with every password of a connection string replaced by "<redacted>": the userinfo of
// a URI and a password query parameter, and password (or sslpassword) keyword values, quoted
// or not. For error texts that may echo a DSN (libpq quotes a malformed URI whole).
//   "invalid URI: \"postgresql://tacho:s3cret@db/app\"" -> "... tacho:<redacted>@db/app ..."
//   "host=db password='it\\'s' user=x"                -> "host=db password=<redacted> user=x"
std::string RedactConnectionPasswords(std::string_view text);

}  // namespace tacho::base
