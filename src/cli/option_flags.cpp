#include "cli/option_flags.hpp"

#include "common/json_text.hpp"
#include "gpbo/error.hpp"

namespace gpbo::cli {

void OptionFlags::add_to(CLI::App& app, const std::function<bool(const OptionSpec&)>& include) {
  const OptionValues defaults;
  for (const OptionSpec& spec : option_table()) {
    if (include && !include(spec)) continue;
    Flag& f = flags_.emplace_back();
    f.spec = &spec;
    if (spec.is_bool) {
      f.option = app.add_flag(spec.flag, f.on, spec.help);
    } else {
      const nlohmann::json d = spec.get(defaults);
      const std::string shown = d.is_string() ? d.get<std::string>() : json_text(d);
      f.option = app.add_option(spec.flag, f.text, spec.help + " [" + shown + "]")
                     ->type_name(d.is_string()         ? "NAME"
                                 : d.is_number_float() ? "NUMBER"
                                                       : "INT");
    }
  }
}

void OptionFlags::apply(OptionValues* values) const {
  OptionValues v = *values;
  for (const Flag& f : flags_) {
    if (f.option->count() == 0) continue;
    try {
      f.spec->set_text(v, f.spec->is_bool ? (f.on ? "true" : "false") : f.text);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(f.spec->flag + ": " + e.what());
    }
  }
  check_study_options(v.study);
  check_persistence_options(v.persistence);
  *values = std::move(v);
}

bool is_engine_option(const OptionSpec& spec) {
  return spec.key != "direction" && spec.key != "seed" && spec.field.rfind("study.", 0) == 0;
}

}  // namespace gpbo::cli
