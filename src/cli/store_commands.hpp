#pragma once
// The persistent-study subcommands of `gpbo` (create-study, ask, tell, heartbeat, enqueue,
// best, trials, export, studies, delete-study), all against `--storage URL` or GPBO_STORAGE.

#include <CLI/CLI.hpp>
#include <functional>

namespace gpbo::cli {

/// Adds the subcommands to `app`; the returned function runs whichever was parsed and returns
/// its exit code, or -1 when none of them was.
std::function<int()> add_store_commands(CLI::App& app);

}  // namespace gpbo::cli
