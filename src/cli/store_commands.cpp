#include "cli/store_commands.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/option_flags.hpp"
#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "codec/warm_start_json.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"
#include "gpbo/test_functions.hpp"
#include "gpbo/test_problems.hpp"
#include "gpbo/verify.hpp"
#include "service/remote_study_service.hpp"
#include "service/study_json.hpp"
#include "service/study_service.hpp"
#include "service/token.hpp"
#include "space/params_json.hpp"

namespace gpbo::cli {
namespace {

using nlohmann::json;

struct StoreArgs {
  std::string storage;
  std::string server;
  std::string token_file;
  std::string ca_file;
  bool insecure_http = false;
  std::string study;
  // create-study
  std::string space_file;
  OptionFlags options;
  bool skip_if_exists = false;
  std::string warm_start_from;
  // ask / tell / heartbeat
  int q = 1;
  std::string worker_id;
  std::string format = "json";
  std::int64_t trial = -1;
  std::int64_t step = -1;
  std::string value;
  std::string values;
  std::string state;
  bool skip_if_finished = false;
  bool outliers = false;
  std::string params;
  std::string fixed;
  std::string output;
  // verify
  std::string head;
  // import
  std::string input;
  std::string input_format;
  // worker
  std::string function;
  std::string problem;
  int dim = 0;
  int trials = 10;
};

/// The studies the command works on: a server (--server, or GPBO_SERVER) or a store (--storage,
/// or GPBO_STORAGE); the commands below are the same for both.
std::shared_ptr<service::StudyService> open_api(const StoreArgs& a) {
  if (!a.server.empty() && !a.storage.empty()) {
    throw InvalidArgument("pass either --server or --storage, not both");
  }
  std::string server_url = a.server;
  std::string storage_url = a.storage;
  if (server_url.empty() && storage_url.empty()) {
    if (const char* env = std::getenv("GPBO_SERVER"); env && *env) {
      server_url = env;
    } else if (const char* env = std::getenv("GPBO_STORAGE"); env && *env) {
      storage_url = env;
    }
  }
  if (!server_url.empty()) {
    service::RemoteOptions remote;
    remote.ca_file = a.ca_file;
    if (const char* env = std::getenv("GPBO_SERVER_CA"); remote.ca_file.empty() && env) {
      remote.ca_file = env;
    }
    remote.insecure_http = a.insecure_http;
    remote.worker_id = a.worker_id;
    return std::make_shared<service::RemoteStudyService>(server_url,
                                                         service::load_token(a.token_file), remote);
  }
  if (storage_url.empty()) {
    throw InvalidArgument(
        "no storage: pass --storage URL or --server URL (or set GPBO_STORAGE or GPBO_SERVER)");
  }
  return std::make_shared<service::LocalStudyService>(Storage::open(storage_url));
}

/// The metrics of a stored study (empty for the classic study).
Metrics study_metrics(service::StudyService& api, const std::string& name) {
  StudyOptions options;
  PersistenceOptions persistence;
  study_options_from_json(api.get_study(name).options_json, &options, &persistence);
  return options.metrics;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Parses a whole string as a finite decimal double, as JSON writes numbers: "1e-3" and the
/// subnormal "5e-324" yes; "", "abc", "1.5x", "nan", "inf", "1e400" and hex ("0x10") no.
double parse_value(const std::string& text) {
  const bool hex = text.find_first_of("xXpP") != std::string::npos;
  char* end = nullptr;
  errno = 0;
  const double v = text.empty() || hex ? 0.0 : std::strtod(text.c_str(), &end);
  // ERANGE with a finite result is an underflow to a subnormal or 0: a value all the same.
  const bool used_all = !text.empty() && !hex && end == text.c_str() + text.size() &&
                        !std::isspace(static_cast<unsigned char>(text.front()));
  if (!used_all || !std::isfinite(v)) {
    throw InvalidArgument("--value '" + text +
                          "' is not a finite number (report a crash with --state fail)");
  }
  return v;
}

/// --warm-start-from A,file:B.json,C.json: study names, and exported files read now (their
/// trials are sent with the request; the file's study takes the new study's direction).
service::WarmStartRequest warm_start_request(const std::string& list, const StudyOptions& o) {
  service::WarmStartRequest w;
  if (list.empty()) return w;
  std::stringstream items(list);
  std::string item;
  while (std::getline(items, item, ',')) {
    const bool prefixed = item.rfind("file:", 0) == 0;
    const bool json_file =
        prefixed || (item.size() > 5 && item.compare(item.size() - 5, 5, ".json") == 0);
    if (item.empty() || (prefixed && item.size() == 5)) {
      throw InvalidArgument("--warm-start-from: an empty study name or file in '" + list + "'");
    }
    if (!json_file) {
      w.studies.push_back(item);
      continue;
    }
    const std::string path = prefixed ? item.substr(5) : item;
    const json j = json::parse(read_file(path), nullptr, false);
    if (j.is_discarded()) throw InvalidArgument("--warm-start-from: '" + path + "' is not JSON");
    w.sources.push_back(warm_start_source_from_export(j, o.direction, "file:" + path));
  }
  return w;
}

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void print_table(const std::vector<Trial>& trials) {
  std::printf("%-6s %-9s %-14s %s\n", "id", "state", "value", "params");
  for (const Trial& t : trials) {
    std::string params;
    const json params_obj = params_to_json(t.params);  // items() must not outlive it
    for (const auto& [k, v] : params_obj.items()) {
      params += (params.empty() ? "" : " ") + k + "=" + value_text(v);
    }
    std::string value = t.value ? json(*t.value).dump() : "-";
    if (!t.values.empty()) {
      value.clear();
      for (const auto& [k, v] : t.values)
        value += (value.empty() ? "" : " ") + k + "=" + json(v).dump();
    }
    std::printf("%-6lld %-9s %-14s %s\n", static_cast<long long>(t.id), to_string(t.state).c_str(),
                value.c_str(), params.c_str());
  }
}

/// The compute a study used, one line: "cost: 12 trials (...), 340.5 trial-seconds; steps 40 of
/// 120 (33%) spent".
void print_cost(const StudyCost& c) {
  std::cout << "cost: " << c.trials << " trials (" << c.complete << " complete, " << c.pruned
            << " pruned, " << c.failed << " failed, " << c.running << " running), "
            << c.trial_seconds << " trial-seconds";
  if (c.reporting > 0) {
    std::cout << "; steps " << c.steps << " of " << c.steps_full << " ("
              << (c.steps_full > 0 ? 100 * c.steps / c.steps_full : 100) << "%) spent";
  }
  std::cout << "\n";
}

/// "drift: 4 re-evaluations, shift threshold 3; shifts at trials 29, 59" (service::drift_to_json).
void print_drift(const json& d) {
  std::cout << "drift: " << d.at("reevaluations").get<std::int64_t>()
            << " re-evaluations judged, shift threshold " << d.at("shift_threshold").dump() << "; ";
  const json& shifts = d.at("shifts");
  if (shifts.empty()) {
    std::cout << "no shift";
  } else {
    std::cout << "shifts at trial" << (shifts.size() > 1 ? "s " : " ");
    for (std::size_t i = 0; i < shifts.size(); ++i) std::cout << (i ? ", " : "") << shifts[i];
  }
  std::cout << "\n";
}

void print_trials(const std::vector<Trial>& trials, const std::string& format) {
  if (format == "table") {
    print_table(trials);
    return;
  }
  std::cout << trials_to_json(trials).dump() << "\n";
}

/// CSV of trials: id, state, value, then value_NAME per metric of a study with metrics, the
/// worker, source and times, then param_NAME per parameter.
void export_csv(const std::vector<Trial>& trials, const Space& space, const Metrics& metrics,
                std::ostream& out) {
  const std::vector<std::string> names = metrics.names();
  out << "id,state,value";
  for (const std::string& n : names) out << "," << json("value_" + n).dump();
  out << ",worker_id,source,created_at,finished_at";
  for (const ParamSpec& p : space.params()) out << ",param_" << p.name;
  out << "\n";
  for (const Trial& t : trials) {
    out << t.id << "," << to_string(t.state) << "," << (t.value ? json(*t.value).dump() : "");
    for (const std::string& n : names) {
      const auto it = t.values.find(n);
      out << "," << (it == t.values.end() ? "" : json(it->second).dump());
    }
    out << "," << json(t.worker_id).dump() << "," << t.source << "," << json(t.created_at).dump()
        << "," << json(t.finished_at).dump();
    const json params = params_to_json(t.params);
    for (const ParamSpec& p : space.params()) {
      const auto it = params.find(p.name);  // an inactive parameter: an empty field
      if (it == params.end()) {
        out << ",";
        continue;
      }
      const json& v = *it;
      out << "," << (v.is_string() ? json(v).dump() : v.dump());
    }
    out << "\n";
  }
}

/// The fields of one CSV line: commas split them except inside a double-quoted field (whose
/// quotes, and backslash escapes, are JSON's: `gpbo export -f csv` writes strings that way).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '\\' && i + 1 < line.size()) {
      out.back() += c;
      out.back() += line[++i];
    } else if (c == '"') {
      quoted = !quoted;
      out.back() += c;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  if (quoted) throw InvalidArgument("CSV: an unterminated quote in: " + line);
  return out;
}

/// A CSV file of trials as {"trials": [...]} (codec/trial_json.hpp's form to add): the columns
/// of `gpbo export -f csv`, or any CSV with a header whose columns are parameters (optionally
/// prefixed "param_", which a parameter named "value_..." needs) besides value, value_METRIC
/// (a metric of a study with metrics), state, created_at and finished_at; id, worker_id, source
/// and lease_deadline are ignored. Numbers are JSON numbers; a quoted field is a JSON string,
/// and an unquoted one that is not a number is a string too.
json csv_to_trials(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) throw InvalidArgument("CSV: the file is empty");
  std::vector<std::string> header = csv_fields(line);
  for (std::string& name : header) {
    if (!name.empty() && name.front() == '"') {
      const json unquoted = json::parse(name, nullptr, false);
      if (!unquoted.is_string()) throw InvalidArgument("CSV: a bad quoted column name " + name);
      name = unquoted.get<std::string>();
    }
  }
  json trials = json::array();
  for (int row = 2; std::getline(in, line); ++row) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> fields = csv_fields(line);
    if (fields.size() != header.size()) {
      throw InvalidArgument("CSV line " + std::to_string(row) + ": " +
                            std::to_string(fields.size()) + " fields, the header has " +
                            std::to_string(header.size()));
    }
    json item = {{"params", json::object()}};
    for (std::size_t c = 0; c < header.size(); ++c) {
      const std::string& name = header[c];
      const std::string& f = fields[c];
      if (name == "id" || name == "worker_id" || name == "source" || name == "lease_deadline") {
        continue;
      }
      if (name == "state") {
        if (!f.empty()) item["state"] = f;
        continue;
      }
      json v;
      if (!f.empty() && f.front() == '"') {
        v = json::parse(f, nullptr, false);
        if (v.is_discarded()) {
          throw InvalidArgument("CSV line " + std::to_string(row) + ": bad quoted field " + f);
        }
      } else if (!f.empty()) {
        v = json::parse(f, nullptr, false);
        if (v.is_discarded() || !v.is_number()) v = f;
      }
      if (name == "value" || name == "created_at" || name == "finished_at") {
        if (!v.is_null()) item[name] = v;
        continue;
      }
      if (name.rfind("value_", 0) == 0) {  // a metric of a study with metrics
        if (!v.is_null()) item["values"][name.substr(6)] = v;
        continue;
      }
      const std::string param = name.rfind("param_", 0) == 0 ? name.substr(6) : name;
      if (!v.is_null()) item["params"][param] = v;  // an empty field: an inactive parameter
    }
    trials.push_back(std::move(item));
  }
  return {{"trials", std::move(trials)}};
}

}  // namespace

std::function<int()> add_store_commands(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  auto with_storage = [a](CLI::App* c, bool needs_study) {
    c->add_option(
        "--storage", a->storage,
        "Store URL (sqlite:///path.db, postgresql://user@host/db); default $GPBO_STORAGE");
    c->add_option("--server", a->server,
                  "A gpbo serve endpoint (http://HOST:PORT) instead of a store; default "
                  "$GPBO_SERVER");
    c->add_option("--token-file", a->token_file,
                  "File holding the server's bearer token; default $GPBO_SERVER_TOKEN");
    c->add_option("--ca-file", a->ca_file,
                  "PEM file of the CA that signed an https:// server's certificate; default "
                  "$GPBO_SERVER_CA, else the system's CAs");
    c->add_flag("--insecure-http", a->insecure_http,
                "Send the token over plain http:// to a host that is not loopback");
    if (needs_study) c->add_option("--study", a->study, "Study name")->required();
    return c;
  };
  auto format_flag = [a](CLI::App* c) {
    c->add_option("-f,--format", a->format, "json or table")
        ->check(CLI::IsMember({"json", "table"}))
        ->capture_default_str();
  };

  CLI::App* create = with_storage(app.add_subcommand("create-study", "Create a study"), true);
  create->add_option("--space", a->space_file, "Search-space JSON file")->required();
  a->options.add_to(*create);
  create->add_flag("--skip-if-exists", a->skip_if_exists, "Succeed if the study already exists");
  create->add_option("--warm-start-from", a->warm_start_from,
                     "Earlier studies to learn from, comma-separated: names of studies in the "
                     "same store (or server), or exported files (file:PATH, or a path ending "
                     "in .json, as gpbo export -f json writes)");

  CLI::App* ask = with_storage(app.add_subcommand("ask", "Suggest trials (RUNNING, leased)"), true);
  ask->add_option("-q,--batch", a->q, "Number of trials")->check(CLI::Range(1, kMaxAskBatch));
  ask->add_option("--worker-id", a->worker_id,
                  "Worker identity: a worker's running trial is returned again");
  ask->add_option("--fixed", a->fixed,
                  "Parameters pinned for this ask, as a JSON object, e.g. '{\"layers\": 4}'");
  format_flag(ask);

  CLI::App* tell = with_storage(app.add_subcommand("tell", "Report a trial's result"), true);
  tell->add_option("--trial", a->trial, "Trial id")->required();
  CLI::Option* value = tell->add_option("--value", a->value, "Objective value");
  CLI::Option* values =
      tell->add_option("--values", a->values,
                       "Every metric's value, as JSON: '{\"acc\": 0.93, \"latency_ms\": 12.5}'")
          ->type_name("JSON");
  CLI::Option* state = tell->add_option("--state", a->state, "fail or pruned")
                           ->check(CLI::IsMember({"fail", "failed", "pruned"}));
  value->excludes(state);
  values->excludes(value)->excludes(state);
  tell->add_flag("--skip-if-finished", a->skip_if_finished,
                 "Do nothing if the trial is already finished");
  tell->add_option("--worker-id", a->worker_id,
                   "The worker id the trial was asked with (a server's worker token needs it)");

  CLI::App* heartbeat =
      with_storage(app.add_subcommand("heartbeat", "Extend a running trial's lease"), true);
  heartbeat->add_option(
      "--worker-id", a->worker_id,
      "The worker id the trial was asked with (a server's worker token needs it)");
  heartbeat->add_option("--trial", a->trial, "Trial id")->required();

  CLI::App* report_value = with_storage(
      app.add_subcommand("report-value",
                         "Report a running trial's intermediate value; answers whether to stop it"),
      true);
  report_value->add_option("--trial", a->trial, "Trial id")->required();
  report_value->add_option("--step", a->step, "Step (epoch, ...): strictly increasing per trial")
      ->required();
  report_value->add_option("--value", a->value, "The objective's value at that step")->required();
  report_value->add_option(
      "--worker-id", a->worker_id,
      "The worker id the trial was asked with (a server's worker token needs it)");

  CLI::App* enqueue =
      with_storage(app.add_subcommand("enqueue", "Queue a point for the next ask"), true);
  enqueue->add_option("--params", a->params, "Point as a JSON object")->required();

  CLI::App* best = with_storage(
      app.add_subcommand("best",
                         "The best complete (feasible) trial of one objective, and the compute "
                         "the study used"),
      true);
  format_flag(best);
  CLI::App* pareto = with_storage(
      app.add_subcommand("pareto", "The Pareto front of the feasible trials, and its hypervolume"),
      true);
  format_flag(pareto);
  CLI::App* trials = with_storage(app.add_subcommand("trials", "List a study's trials"), true);
  format_flag(trials);
  trials->add_flag("--outliers", a->outliers,
                   "Only the trials the model left out as outliers at the last ask (option "
                   "robust)");
  CLI::App* exp = with_storage(app.add_subcommand("export", "Export trials as CSV or JSON"), true);
  exp->add_option("-f,--format", a->format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  exp->add_option("-o,--output", a->output, "File to write (default: stdout)");
  CLI::App* import = with_storage(
      app.add_subcommand("import", "Add finished trials from a JSON or CSV file (an old history)"),
      true);
  import->add_option("-i,--input", a->input, "JSON ({\"trials\": [...]}, as export writes) or CSV")
      ->required();
  import->add_option("-f,--format", a->input_format, "json or csv (default: by the extension)")
      ->check(CLI::IsMember({"json", "csv"}));
  CLI::App* report = with_storage(
      app.add_subcommand("report", "Write the study's report: one self-contained HTML page"), true);
  report->add_option("-o,--output", a->output, "File to write (default: stdout)");
  CLI::App* log = with_storage(
      app.add_subcommand("log", "A study's append-only log: every suggestion and result"), true);
  CLI::App* verify = with_storage(
      app.add_subcommand("verify",
                         "Check the study's log (hash chain) and its trials against the log; exit "
                         "7 when either was tampered with"),
      true);
  verify->add_option("--head", a->head,
                     "A chain head kept earlier (an export's log_head.hash): it must still be in "
                     "the log");
  CLI::App* studies = with_storage(app.add_subcommand("studies", "List the studies"), false);
  CLI::App* del = with_storage(app.add_subcommand("delete-study", "Delete a study"), true);
  CLI::App* worker = with_storage(
      app.add_subcommand("worker", "Ask, evaluate a test function, tell: N rounds (a demo worker)"),
      true);
  CLI::Option* worker_function =
      worker->add_option("--function", a->function, "Test function (its params are x0, x1, ...)");
  worker
      ->add_option("--problem", a->problem,
                   "Test problem with several metrics (a study created with its metrics)")
      ->excludes(worker_function);
  worker->add_option("--dim", a->dim, "Dimension of a scalable function")
      ->check(CLI::NonNegativeNumber);
  worker->add_option("-n,--trials", a->trials, "Trials to evaluate")->check(CLI::PositiveNumber);
  worker->add_option("-q,--batch", a->q, "Trials per ask")->check(CLI::Range(1, kMaxAskBatch));
  worker->add_option("--worker-id", a->worker_id, "Worker identity");

  return [=]() -> int {
    if (!(*create || *studies || *del || *ask || *tell || *heartbeat || *report_value || *enqueue ||
          *worker || *best || *pareto || *trials || *exp || *log || *import || *report ||
          *verify)) {
      return -1;
    }
    const std::string& name = a->study;
    if (*create) {
      // Everything is read and validated before the store is opened (which creates its file).
      const Space space = Space::from_json(read_file(a->space_file));
      OptionValues o;
      a->options.apply(&o);
      const service::WarmStartRequest warm = warm_start_request(a->warm_start_from, o.study);
      const std::shared_ptr<service::StudyService> api = open_api(*a);
      try {
        if (warm.empty()) {
          api->create_study(name, space, o.study, o.persistence);
        } else {
          api->create_warm_started_study(name, space, o.study, o.persistence, warm);
        }
      } catch (const Conflict&) {
        if (!a->skip_if_exists) throw;
      }
      std::cout << json{{"study", name}}.dump() << "\n";
      return kOk;
    }
    const std::shared_ptr<service::StudyService> api = open_api(*a);
    if (*studies) {
      json arr = json::array();
      for (const StudyInfo& s : api->list_studies()) arr.push_back(service::study_to_json(s));
      std::cout << json{{"studies", arr}}.dump() << "\n";
      return kOk;
    }
    if (*del) {
      api->delete_study(name);
      std::cout << json{{"deleted", name}}.dump() << "\n";
      return kOk;
    }
    if (*ask) {
      json fixed = json::object();
      if (!a->fixed.empty()) {
        try {
          fixed = json::parse(a->fixed);
        } catch (const json::exception& e) {
          throw InvalidArgument(std::string("--fixed: malformed JSON: ") + e.what());
        }
        if (!fixed.is_object()) {
          throw InvalidArgument("--fixed must be a JSON object of name: value, got " +
                                fixed.dump());
        }
      }
      print_trials(api->ask(name, a->q, a->worker_id, fixed), a->format);
      return kOk;
    }
    if (*tell) {
      if (int(!a->value.empty()) + int(!a->values.empty()) + int(!a->state.empty()) != 1) {
        throw InvalidArgument("tell needs exactly one of --value, --values or --state");
      }
      Trial t;
      if (!a->values.empty()) {
        const json j = json::parse(a->values, nullptr, false);
        if (j.is_discarded()) throw InvalidArgument("--values: malformed JSON: " + a->values);
        t = api->tell_values(name, a->trial, metric_values_from_json(j), a->skip_if_finished);
      } else if (!a->value.empty()) {
        t = api->tell(name, a->trial, parse_value(a->value), a->skip_if_finished);
      } else {
        t = api->tell_state(name, a->trial, parse_trial_state(a->state), a->skip_if_finished);
      }
      std::cout << trial_to_json(t).dump() << "\n";
      return kOk;
    }
    if (*heartbeat) {
      std::cout << trial_to_json(api->heartbeat(name, a->trial)).dump() << "\n";
      return kOk;
    }
    if (*report_value) {
      const PruneAnswer r = api->report_value(name, a->trial, a->step, parse_value(a->value));
      std::cout << json{{"prune", r.prune}, {"trial", trial_to_json(r.trial)}}.dump() << "\n";
      return kOk;
    }
    if (*enqueue) {
      json j;
      try {
        j = json::parse(a->params);
      } catch (const json::exception& e) {
        throw InvalidArgument(std::string("--params: malformed JSON: ") + e.what());
      }
      if (!j.is_object()) throw InvalidArgument("params must be a JSON object, got " + j.dump());
      api->enqueue(name, j);
      std::cout << json{{"enqueued", j}}.dump() << "\n";
      return kOk;
    }
    if (*worker) {
      if (a->function.empty() == a->problem.empty()) {
        throw InvalidArgument("worker needs one of --function or --problem");
      }
      api->get_study(name);  // NotFound first, as for every study command
      std::optional<TestFunction> f;
      std::optional<TestProblem> p;
      if (a->problem.empty()) {
        f = TestFunction::make(a->function, a->dim);
      } else {
        p = TestProblem::make(a->problem, a->dim);
      }
      int done = 0;
      while (done < a->trials) {
        for (const Trial& t : api->ask(name, std::min(a->q, a->trials - done), a->worker_id)) {
          if (f) {
            const double v = (*f)(f->to_vector(t.params));
            api->tell(name, t.id, v, false);
            std::cout << json{{"id", t.id}, {"value", v}}.dump() << "\n";
          } else {
            const MetricValues v = (*p)(p->to_vector(t.params));
            api->tell_values(name, t.id, v, false);
            std::cout << json{{"id", t.id}, {"values", metric_values_to_json(v)}}.dump() << "\n";
          }
          ++done;
        }
      }
      return kOk;
    }
    if (*best) {
      const auto b = api->best(name);
      if (!b) throw NotFound("study '" + name + "' has no complete (feasible) trial");
      const StudyCost cost = api->cost(name);
      const json drift = api->drift(name);
      const bool drifts = drift.at("mode") != "off";
      if (a->format == "table") {
        print_table({*b});
        print_cost(cost);
        if (drifts) print_drift(drift);
      } else {
        json out = trial_to_json(*b);
        out["cost"] = service::cost_to_json(cost);
        if (drifts) out["drift"] = drift;
        std::cout << out.dump() << "\n";
      }
      return kOk;
    }
    if (*pareto) {
      const ParetoFront front = api->pareto(name);
      if (a->format == "table") {
        print_table(front.trials);
        if (!front.reference_point.empty()) {
          std::printf("hypervolume %s (reference point %s)\n",
                      json(front.hypervolume).dump().c_str(),
                      json(front.reference_point).dump().c_str());
        }
        return kOk;
      }
      std::cout << service::pareto_to_json(front, study_metrics(*api, name)).dump() << "\n";
      return kOk;
    }
    if (*trials) {
      std::vector<Trial> all = api->trials(name);
      if (a->outliers) {
        const std::vector<std::int64_t> ids = api->outliers(name);
        all.erase(std::remove_if(all.begin(), all.end(),
                                 [&](const Trial& t) {
                                   return !std::binary_search(ids.begin(), ids.end(), t.id);
                                 }),
                  all.end());
      }
      print_trials(all, a->format);
      return kOk;
    }
    if (*import) {
      const std::string text = read_file(a->input);
      const bool csv =
          a->input_format == "csv" || (a->input_format.empty() && a->input.size() >= 4 &&
                                       a->input.compare(a->input.size() - 4, 4, ".csv") == 0);
      json j;
      if (csv) {
        j = csv_to_trials(text);
      } else {
        j = json::parse(text, nullptr, false);
        if (j.is_discarded()) throw InvalidArgument("'" + a->input + "' is not JSON");
      }
      const Space space = Space::from_json(api->get_study(name).space_json);
      std::vector<Trial> finished;
      std::size_t running = 0;
      for (Trial& t : finished_trials_from_json(j, &space)) {
        if (t.state == TrialState::kRunning) {
          ++running;  // an exported study's running trials did not finish: nothing to add
        } else {
          finished.push_back(std::move(t));
        }
      }
      const std::vector<Trial> added = api->add_trials(name, finished);
      std::cout << json{{"imported", added.size()}, {"skipped_running", running}}.dump() << "\n";
      return kOk;
    }
    if (*report) {
      const std::string html = api->report(name);
      if (a->output.empty()) {
        std::cout << html;
      } else {
        std::ofstream file(a->output, std::ios::binary);
        if (!file) throw InvalidArgument("cannot write '" + a->output + "'");
        file << html;
        if (!file) throw InvalidArgument("cannot write '" + a->output + "'");
        std::cout << json{{"report", a->output}, {"bytes", html.size()}}.dump() << "\n";
      }
      return kOk;
    }
    if (*log) {
      std::cout << json_text(service::log_to_json(api->log(name))) << "\n";
      return kOk;
    }
    if (*verify) {
      VerifyReport r = api->verify(name);
      if (r.ok && !a->head.empty()) {
        // A head kept elsewhere pins the log up to it: a rewrite or a truncation loses it.
        const std::vector<LogEntry> log = api->log(name);
        const bool found = std::any_of(log.begin(), log.end(),
                                       [&](const LogEntry& e) { return e.hash == a->head; });
        if (!found) {
          r.ok = false;
          r.kind = "head";
          r.message = "the chain head " + a->head +
                      " is not in the log: it was rewritten or cut short after that head";
        }
      }
      std::cout << service::verify_report_to_json(r).dump() << "\n";
      if (r.ok) return kOk;
      std::cerr << "gpbo: verify: study '" << name << "': " << r.message << "\n";
      return kNotIntact;
    }
    if (*exp) {
      const std::vector<Trial> all = api->trials(name);
      std::ofstream file;
      if (!a->output.empty()) {
        file.open(a->output);
        if (!file) throw InvalidArgument("cannot write '" + a->output + "'");
      }
      std::ostream& out = a->output.empty() ? std::cout : file;
      if (a->format == "csv") {
        export_csv(all, Space::from_json(api->get_study(name).space_json),
                   study_metrics(*api, name), out);
      } else {
        json arr = json::array();
        for (const Trial& t : all) arr.push_back(trial_to_json(t));
        // The head of the log's hash chain when exported: kept with the file, it pins the log
        // (gpbo verify --head). Read after the trials, so it covers them.
        const std::vector<LogEntry> log = api->log(name);
        const json head =
            log.empty() ? json(nullptr) : json{{"seq", log.back().seq}, {"hash", log.back().hash}};
        out << json{{"study", name}, {"trials", arr}, {"log_head", head}}.dump() << "\n";
      }
      return kOk;
    }
    return -1;
  };
}

}  // namespace gpbo::cli
