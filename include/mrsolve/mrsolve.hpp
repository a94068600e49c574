#pragma once
/// @file mrsolve.hpp
/// @brief Umbrella header of the core: families, schedules, solvers, the sampling loop, noise and the
/// default contiguous-container backend, and grid tuning (tune/, which uses oracle/reference_solve.hpp).
/// The oracles and the golden-file tools have their own headers.

/// @namespace mrsolve
/// @brief Samplers for mean-reverting (MR) diffusion models: coefficient families, fit targets and
/// parameterizations, step schedules, the MR Sampler solvers and baselines, the sampling loop, noise
/// sources, backends and the Gaussian oracles.
///
/// Everything a user names lives directly in `mrsolve`; `mrsolve::detail` holds internals that may change
/// without notice and is left out of this reference.

#include "version.hpp"
#include "error.hpp"
#include "concepts/coefficients.hpp"
#include "concepts/state.hpp"
#include "backend/contiguous.hpp"
#include "sde/irsde_table.hpp"
#include "sde/ir_sde.hpp"
#include "prediction/fit_target.hpp"
#include "prediction/conversion.hpp"
#include "prediction/parameterization.hpp"
#include "schedule/schedule.hpp"
#include "noise/philox.hpp"
#include "noise/normal.hpp"
#include "noise/noise_source.hpp"
#include "simd.hpp"
#include "solver/step.hpp"
#include "solver/mr_ode.hpp"
#include "solver/mr_sde.hpp"
#include "solver/mr_unipc.hpp"
#include "solver/mr_eta.hpp"
#include "solver/euler_maruyama.hpp"
#include "solver/euler_ode.hpp"
#include "solver/heun_ode.hpp"
#include "solver/posterior.hpp"
#include "thresholding.hpp"
#include "sample.hpp"
#include "singlestep.hpp"
#include "adaptive.hpp"
#include "recommended.hpp"
#include "tune/tune_grid.hpp"
#include "tune/grid_file.hpp"
#include "start.hpp"
