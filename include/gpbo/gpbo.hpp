#pragma once
/// gpbo's C++ API in one header: search spaces, studies in memory (Study) and in a store
/// (PersistentStudy, Storage), the GP surrogate, test functions and problems, and the vocabulary
/// they share (options, trials, errors, devices). The C API is gpbo/gpbo.h.

#include "gpbo/acquisition.hpp"
#include "gpbo/device.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/kernel.hpp"
#include "gpbo/options.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/report.hpp"
#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/study.hpp"
#include "gpbo/test_functions.hpp"
#include "gpbo/test_problems.hpp"
#include "gpbo/trial.hpp"
#include "gpbo/trust_region.hpp"
#include "gpbo/verify.hpp"
