// <regex> for the process collector. GCC 12 reports false -Wmaybe-uninitialized warnings inside
// libstdc++'s regex compiler when building with -fsanitize=address (TACHO_SANITIZE), which
// -Werror turns into errors; they are silenced for the header's own code only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
