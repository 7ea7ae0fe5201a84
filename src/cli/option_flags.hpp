#pragma once
// The CLI flags of a study's options, generated from the option table
// (codec/options_codec.hpp): one flag per option, so every option a store or the HTTP API
// accepts can be set from the command line too.

#include <CLI/CLI.hpp>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "codec/options_codec.hpp"

namespace gpbo::cli {

class OptionFlags {
 public:
  /// Adds a flag to `app` for every option `include` accepts (all when empty): a value flag
  /// ("--kernel rbf"), a bare flag for a yes/no option ("--requeue-expired"), JSON text for
  /// an object ("--metrics '{...}'"); with the metrics, the repeatable shorthands "--objective
  /// acc:maximize" and "--constraint 'latency_ms<=20'".
  void add_to(CLI::App& app, const std::function<bool(const OptionSpec&)>& include = {});
  /// Sets the options given on the command line in `values`, then checks them all.
  /// InvalidArgument (naming the flag) for a bad value.
  void apply(OptionValues* values) const;

 private:
  struct Flag {
    const OptionSpec* spec = nullptr;
    CLI::Option* option = nullptr;
    std::string text;
    bool on = false;
  };
  std::deque<Flag> flags_;  // stable addresses: CLI11 writes into `text` and `on`
  std::vector<std::string> objectives_, constraints_;
  CLI::Option* objective_flag_ = nullptr;
  CLI::Option* constraint_flag_ = nullptr;
};

/// The options of `gpbo optimize` and `gpbo bench`: the engine's, without the direction, the
/// metrics and the seed (the test function and the run set them) or a stored study's.
bool is_engine_option(const OptionSpec& spec);

}  // namespace gpbo::cli
