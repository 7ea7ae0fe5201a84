#pragma once
// The one table of a study's options: every field of StudyOptions and PersistenceOptions, with
// its JSON key, its CLI flag, its help text and its type. The JSON codec (gpbo/options.hpp), the
// CLI's flags (create-study, optimize, bench) and the tests are all driven by it, so an option
// is added in one place; tests/codec/options_codec_test.cpp fails when a field of those structs
// has no row here.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpbo/options.hpp"

namespace gpbo {

/// Both option structs of a study, as one target of the table's accessors.
struct OptionValues {
  StudyOptions study;
  PersistenceOptions persistence;
};

/// One row of the option table.
struct OptionSpec {
  /// JSON key, with '.' between an object and its member: "trust_region.length_init".
  std::string key;
  /// The C++ member it sets, from OptionValues: "study.trust_region.length_init".
  std::string field;
  /// The CLI flag, e.g. "--trust-region-length-init".
  std::string flag;
  std::string help;
  /// True for a yes/no option (a CLI flag without a value).
  bool is_bool = false;
  /// True for an option whose value is a JSON object (given to the CLI as JSON text), left out
  /// of options_to_json while it is empty.
  bool is_object = false;
  /// A valid value other than the default, for the tests and the documentation.
  nlohmann::json example;
  /// The option's value in its JSON form.
  std::function<nlohmann::json(const OptionValues&)> get;
  /// Sets the option from its JSON form; InvalidArgument (naming the key) for a value of the
  /// wrong type or out of range. Cross-field rules are checked afterwards (check_*_options).
  std::function<void(OptionValues&, const nlohmann::json&)> set;
  /// Sets the option from a CLI argument: numbers parsed whole ("1e-3", not "1e-3x", "0x10"
  /// or "nan"), "true"/"false" for yes/no options, names as they are.
  std::function<void(OptionValues&, const std::string&)> set_text;
};

/// Every option, in the order of gpbo/options.hpp.
const std::vector<OptionSpec>& option_table();

/// The row with JSON key `key`, or nullptr.
const OptionSpec* find_option(const std::string& key);

/// The options as one JSON object (nested for the trust_region, gp and optimizer groups).
nlohmann::json options_to_json(const OptionValues& values);
/// Reads such an object into `values` (missing keys keep their values), then checks the
/// result. InvalidArgument for an unknown key, a wrong type, a value out of range.
void options_from_json(const nlohmann::json& j, OptionValues* values);

}  // namespace gpbo
