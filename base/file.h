// Files that must survive a crash whole or not at all.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace tacho::base {

// Replaces `path` with `data` atomically and durably: writes ".<name>.tmp" beside it, fsyncs
// and closes it (both checked), renames it over `path` (checked), then fsyncs the directory.
// On any failure the temporary file is removed and the error names the step and the path.
// A reader sees the old content or the new, never a part.
Status WriteFileAtomically(const std::string& path, std::string_view data, int mode = 0600);

// The temporary name WriteFileAtomically uses for `path`: "<dir>/.<name>.tmp".
std::string TemporaryPathFor(const std::string& path);

// Removes the temporary files a crash during WriteFileAtomically left in `dir` (".*.tmp").
// Returns how many it removed.
int RemoveTemporaryFiles(const std::string& dir);

}  // namespace tacho::base
