// The option table (src/codec/options_codec.hpp): every field of the option structs has a row,
// and every row round-trips through the JSON codec, the stored form and the CLI flags.
#include "codec/options_codec.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli/option_flags.hpp"
#include "engine/ask_plan.hpp"
#include "engine/stored_study.hpp"
#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"

namespace gpbo {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------- counting a struct's fields

/// Converts to anything: T{AnyField{}, ...} compiles for as many fields as aggregate T has.
struct AnyField {
  template <typename T>
  operator T() const;
};

template <typename T, typename Seq, typename = void>
struct BraceConstructible : std::false_type {};
template <typename T, std::size_t... I>
struct BraceConstructible<T, std::index_sequence<I...>,
                          std::void_t<decltype(T{(void(I), AnyField{})...})>> : std::true_type {};

/// The number of fields of the aggregate T.
template <typename T, std::size_t N = 0>
constexpr std::size_t field_count() {
  if constexpr (BraceConstructible<T, std::make_index_sequence<N + 1>>::value) {
    return field_count<T, N + 1>();
  } else {
    return N;
  }
}

/// The distinct members right below `prefix` ("study." -> "seed", "trust_region", ...) that
/// the table's rows set.
std::size_t members_in_table(const std::string& prefix) {
  std::set<std::string> members;
  for (const OptionSpec& s : option_table()) {
    if (s.field.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = s.field.substr(prefix.size());
    members.insert(rest.substr(0, rest.find('.')));
  }
  return members.size();
}

TEST(OptionTable, EveryFieldOfEveryOptionStructHasARow) {
  // A field added to one of these structs without a row in src/codec/options_codec.cpp fails
  // here: it would be silently dropped by the stores, the HTTP API, the C API and the CLI.
  EXPECT_EQ(field_count<StudyOptions>(), members_in_table("study."));
  EXPECT_EQ(field_count<TrustRegionOptions>(), members_in_table("study.trust_region."));
  EXPECT_EQ(field_count<GpOptions>(), members_in_table("study.gp."));
  EXPECT_EQ(field_count<AcquisitionOptimizerOptions>(), members_in_table("study.optimizer."));
  EXPECT_EQ(field_count<PrunerOptions>(), members_in_table("study.pruner."));
  EXPECT_EQ(field_count<DriftOptions>(), members_in_table("study.drift."));
  EXPECT_EQ(field_count<PersistenceOptions>(), members_in_table("persistence."));
  EXPECT_EQ(field_count<OptionValues>(), 2u);
  // The counter itself counts.
  struct Three {
    int a;
    double b;
    Device c = Device::cpu();
  };
  EXPECT_EQ(field_count<Three>(), 3u);
}

TEST(OptionTable, KeysFieldsAndFlagsAreUnique) {
  std::set<std::string> keys, fields, flags;
  for (const OptionSpec& s : option_table()) {
    EXPECT_TRUE(keys.insert(s.key).second) << s.key;
    EXPECT_TRUE(fields.insert(s.field).second) << s.field;
    EXPECT_TRUE(flags.insert(s.flag).second) << s.flag;
    EXPECT_EQ(s.flag.rfind("--", 0), 0u) << s.flag;
    EXPECT_FALSE(s.help.empty()) << s.key;
  }
}

/// The values with every row set to its example.
OptionValues all_examples() {
  OptionValues v;
  for (const OptionSpec& s : option_table()) s.set(v, s.example);
  return v;
}

TEST(OptionTable, EachRowSetsItsOwnFieldAndRoundTrips) {
  const OptionValues defaults;
  for (const OptionSpec& row : option_table()) {
    SCOPED_TRACE(row.key);
    OptionValues v;
    row.set(v, row.example);
    EXPECT_EQ(row.get(v), row.example);
    EXPECT_NE(row.get(v), row.get(defaults)) << "the example must differ from the default";
    for (const OptionSpec& other : option_table()) {
      if (&other != &row) EXPECT_EQ(other.get(v), other.get(defaults)) << other.key;
    }
    // The JSON object, and the text codec of gpbo/options.hpp that the stores keep.
    OptionValues back;
    options_from_json(options_to_json(v), &back);
    EXPECT_EQ(options_to_json(back), options_to_json(v));
    StudyOptions study;
    PersistenceOptions persistence;
    study_options_from_json(study_options_to_json(v.study, v.persistence), &study, &persistence);
    EXPECT_EQ(row.get(OptionValues{study, persistence}), row.example);
    // Only this key given: the others keep the values already there.
    json only = json::object();
    const std::size_t dot = row.key.find('.');
    if (dot == std::string::npos) {
      only[row.key] = row.example;
    } else {
      only[row.key.substr(0, dot)][row.key.substr(dot + 1)] = row.example;
    }
    OptionValues partial;
    options_from_json(only, &partial);
    EXPECT_EQ(options_to_json(partial), options_to_json(v));
  }
}

TEST(OptionTable, AllExamplesTogetherRoundTrip) {
  const OptionValues v = all_examples();
  EXPECT_NO_THROW(check_study_options(v.study));
  OptionValues back;
  options_from_json(options_to_json(v), &back);
  EXPECT_EQ(options_to_json(back), options_to_json(v));
  for (const OptionSpec& s : option_table()) EXPECT_EQ(s.get(back), s.example) << s.key;
}

TEST(OptionTable, BadValuesAreRefusedByName) {
  OptionValues v;
  const auto refused = [&](const std::string& text, const std::string& needle) {
    SCOPED_TRACE(text);
    try {
      options_from_json(json::parse(text), &v);
      ADD_FAILURE() << "accepted " << text;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused(R"({"sed": 1})", "unknown key 'sed'");
  refused(R"({"trust_region": {"radius": 1}})", "unknown key 'trust_region.radius'");
  refused(R"({"trust_region": 3})", "'trust_region' must be an object");
  refused(R"({"seed": -1})", "'seed'");
  refused(R"({"seed": 1.5})", "'seed'");
  refused(R"({"seed": "1"})", "'seed'");
  refused(R"({"n_initial": -1})", "'n_initial'");
  refused(R"({"n_initial": 1e3})", "'n_initial'");
  refused(R"({"n_initial": 99999999999})", "'n_initial'");
  refused(R"({"ucb_beta": -0.5})", "'ucb_beta'");
  refused(R"({"ucb_beta": "2"})", "'ucb_beta'");
  refused(R"({"gp": {"min_noise": 0}})", "'gp.min_noise'");
  refused(R"({"gp": {"min_noise": 2}})", "min_noise <= max_noise");
  refused(R"({"trust_region": {"n_regions": 65}})", "'trust_region.n_regions'");
  refused(R"({"trust_region": {"length_min": 1.0, "length_init": 0.5}})", "length_min");
  refused(R"({"batch_method": "greedy", "trust_region": {"n_regions": 2}})", "thompson");
  refused(R"({"acquisition": "eii"})", "acquisition 'eii'");
  refused(R"({"device": "tpu"})", "tpu");
  refused(R"({"requeue_expired": 1})", "'requeue_expired'");
  refused(R"({"lease_seconds": 0})", "'lease_seconds'");
  refused(R"([1, 2])", "must be a JSON object");
  // Nothing was applied by the refused calls.
  EXPECT_EQ(options_to_json(v), options_to_json(OptionValues{}));
}

TEST(OptionTable, StoredOptionsOfEarlierVersionsStillRead) {
  // The form gpbo 0.1 stored: fewer keys, "kernel" at the top, a trust_region object.
  const std::string old_form =
      R"({"seed": 3, "n_initial": 7, "acquisition": "ei", "kernel": "rbf",
          "batch_method": "thompson", "strategy": "trust-region",
          "trust_region": {"length_init": 0.8, "length_min": 0.0078125, "length_max": 1.6,
                           "success_tolerance": 3, "failure_tolerance": 0, "n_candidates": 0,
                           "max_points": 1000, "n_regions": 1},
          "output_warping": "halfrank", "noise": "auto", "lease_seconds": 60,
          "requeue_expired": true})";
  StudyOptions o;
  PersistenceOptions p;
  study_options_from_json(old_form, &o, &p);
  EXPECT_EQ(o.seed, 3u);
  EXPECT_EQ(o.gp.kernel, KernelType::kRbf);
  EXPECT_EQ(o.batch_method, BatchMethod::kThompson);
  EXPECT_EQ(o.device, Device::automatic());  // missing keys keep their defaults
  EXPECT_EQ(o.score_precision, ScorePrecision::kDouble);
  EXPECT_EQ(p.lease_seconds, 60.0);
  EXPECT_TRUE(p.requeue_expired);
}

TEST(OptionTable, ChecksOfTheStructsUseTheRowsRules) {
  StudyOptions o;
  o.ucb_beta = -1.0;
  EXPECT_THROW(check_study_options(o), InvalidArgument);
  o = StudyOptions{};
  o.gp.n_starts = 0;
  EXPECT_THROW(check_study_options(o), InvalidArgument);
  o = StudyOptions{};
  o.optimizer.raw_samples = 0;
  EXPECT_THROW(check_study_options(o), InvalidArgument);
  GpOptions gp;
  gp.max_lengthscale = gp.min_lengthscale / 2;
  EXPECT_THROW(check_gp_options(gp), InvalidArgument);
  PersistenceOptions p;
  p.lease_seconds = -1.0;
  EXPECT_THROW(check_persistence_options(p), InvalidArgument);
  EXPECT_NO_THROW(check_study_options(StudyOptions{}));
}

TEST(OptionTable, TheDocumentsNameEveryOption) {
  // The README's options table and docs/openapi.yaml's StudyOptions schema are written by hand:
  // this keeps them in step with the table.
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string readme = read(GPBO_SOURCE_DIR "/README.md");
  const std::string api = read(GPBO_SOURCE_DIR "/docs/openapi.yaml");
  const std::size_t begin = api.find("    StudyOptions:\n");
  const std::size_t end = api.find("    CreateStudy:\n");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_LT(begin, end);
  const std::string schema = api.substr(begin, end - begin);
  for (const OptionSpec& s : option_table()) {
    const std::string member = s.key.substr(s.key.rfind('.') + 1);
    EXPECT_NE(schema.find(" " + member + ": "), std::string::npos)
        << s.key << " is not in docs/openapi.yaml's StudyOptions";
    EXPECT_NE(readme.find("`" + s.flag + "`"), std::string::npos)
        << s.flag << " is not in the README's options table";
    EXPECT_NE(readme.find(member), std::string::npos) << s.key << " is not in the README";
  }
}

// ---------------------------------------------------------------- the CLI's flags

/// Parses `args` with a subcommand carrying the table's flags; returns the options.
OptionValues parse_flags(std::vector<std::string> args) {
  CLI::App app;
  cli::OptionFlags flags;
  flags.add_to(app);
  args.insert(args.begin(), "gpbo");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  OptionValues v;
  flags.apply(&v);
  return v;
}

TEST(OptionFlags, EveryRowHasAFlagThatSetsIt) {
  for (const OptionSpec& row : option_table()) {
    SCOPED_TRACE(row.flag);
    std::vector<std::string> args = {row.flag};
    if (!row.is_bool) {
      args.push_back(row.example.is_string() ? row.example.get<std::string>() : row.example.dump());
    }
    EXPECT_EQ(row.get(parse_flags(args)), row.example);
  }
  // All at once.
  std::vector<std::string> args;
  for (const OptionSpec& row : option_table()) {
    args.push_back(row.flag);
    if (!row.is_bool) {
      args.push_back(row.example.is_string() ? row.example.get<std::string>() : row.example.dump());
    }
  }
  EXPECT_EQ(options_to_json(parse_flags(args)), options_to_json(all_examples()));
}

TEST(OptionFlags, ValuesAreParsedWhole) {
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"--seed", "-1"},
                                             {"--seed", "0x10"},
                                             {"--n-initial", "3x"},
                                             {"--ucb-beta", "nan"},
                                             {"--ucb-beta", "inf"},
                                             {"--ucb-beta", ""},
                                             {"--kernel", "linear"},
                                             {"--trust-regions", "0"}}) {
    EXPECT_THROW(parse_flags(bad), InvalidArgument) << bad[0] << " " << bad[1];
  }
  EXPECT_EQ(parse_flags({"--ucb-beta", "1e-3"}).study.ucb_beta, 1e-3);
  EXPECT_EQ(parse_flags({"--seed", "18446744073709551615"}).study.seed, 18446744073709551615ull);
}

TEST(OptionFlags, EngineFlagsLeaveOutTheStudysIdentityAndStorage) {
  std::set<std::string> engine;
  for (const OptionSpec& s : option_table()) {
    if (cli::is_engine_option(s)) engine.insert(s.key);
  }
  EXPECT_EQ(engine.count("direction"), 0u);
  EXPECT_EQ(engine.count("seed"), 0u);
  EXPECT_EQ(engine.count("lease_seconds"), 0u);
  EXPECT_EQ(engine.count("device"), 1u);
  EXPECT_EQ(engine.count("trust_region.n_regions"), 1u);
}

// ---------------------------------------------------------------- a stored study

TEST(OptionTable, EveryOptionReachesTheStudyAStoredStudyRebuilds) {
  // The bug this table fixes: the stored form dropped device, score_precision, ucb_beta, the
  // GP's bounds, ... so every stored study ran on the defaults.
  const OptionValues v = all_examples();
  std::shared_ptr<Storage> storage = Storage::open("memory://");
  Space space;
  space.add_float("x", 0.0, 1.0).add_int("k", 1, 4);
  PersistentStudy created = PersistentStudy::create(storage, "s", space, v.study, v.persistence);
  const StudyInfo info = created.info();
  EXPECT_EQ(info.direction, Direction::kMaximize);
  const StoredStudy stored = StoredStudy::load(info);
  EXPECT_EQ(options_to_json({stored.options, stored.persistence}), options_to_json(v));
  const Study study = rebuild_study(stored, {});
  EXPECT_EQ(options_to_json({study.options(), stored.persistence}), options_to_json(v));
}

}  // namespace
}  // namespace gpbo
