// SPDX-License-Identifier: MIT
// curvop version: the single source of the version number (CMake parses these lines).
#ifndef CURVOP_VERSION_HPP
#define CURVOP_VERSION_HPP

#define CURVOP_VERSION_MAJOR 0
#define CURVOP_VERSION_MINOR 1
#define CURVOP_VERSION_PATCH 0

/// The version as one integer, major * 10000 + minor * 100 + patch.
#define CURVOP_VERSION \
  (CURVOP_VERSION_MAJOR * 10000 + CURVOP_VERSION_MINOR * 100 + CURVOP_VERSION_PATCH)

#endif  // CURVOP_VERSION_HPP
