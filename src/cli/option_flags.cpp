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
    } else if (spec.is_object) {
      f.option = app.add_option(spec.flag, f.text, spec.help)->type_name("JSON");
    } else {
      const nlohmann::json d = spec.get(defaults);
      const std::string shown = d.is_string() ? d.get<std::string>() : json_text(d);
      f.option = app.add_option(spec.flag, f.text, spec.help + " [" + shown + "]")
                     ->type_name(d.is_string()         ? "NAME"
                                 : d.is_number_float() ? "NUMBER"
                                                       : "INT");
    }
    if (spec.key == "metrics") {
      objective_flag_ = app.add_option("--objective", objectives_,
                                       "An objective, NAME[:minimize|maximize] (repeat for "
                                       "several; instead of --metrics)")
                            ->type_name("NAME[:DIR]")
                            ->excludes(f.option);
      constraint_flag_ = app.add_option("--constraint", constraints_,
                                        "An outcome constraint, METRIC<=BOUND or METRIC>=BOUND "
                                        "(repeatable; with --objective)")
                             ->type_name("EXPR")
                             ->excludes(f.option);
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
  if (!objectives_.empty() || !constraints_.empty()) {
    Metrics m;
    for (const std::string& t : objectives_) {
      try {
        m.objectives.push_back(parse_objective(t));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(std::string("--objective: ") + e.what());
      }
    }
    for (const std::string& t : constraints_) {
      try {
        m.constraints.push_back(parse_constraint(t));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(std::string("--constraint: ") + e.what());
      }
    }
    try {
      check_metrics(m);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--objective/--constraint: ") + e.what());
    }
    v.study.metrics = std::move(m);
  }
  for (const Flag& f : flags_) {
    // Each objective carries its direction; an explicit --direction must agree with the first.
    if (f.spec->key == "direction" && f.option->count() > 0) {
      set_direction(&v.study, v.study.direction);
    }
  }
  v.study = with_objective_direction(std::move(v.study));
  check_study_options(v.study);
  check_persistence_options(v.persistence);
  *values = std::move(v);
}

bool is_engine_option(const OptionSpec& spec) {
  return spec.key != "direction" && spec.key != "metrics" && spec.key != "seed" &&
         spec.field.rfind("study.", 0) == 0;
}

}  // namespace gpbo::cli
