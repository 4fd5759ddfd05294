// SPDX-License-Identifier: MIT
// The one place that knows the Catch2 major version: every test includes this header.
#ifndef CURVOP_TESTS_SUPPORT_CATCH_HPP
#define CURVOP_TESTS_SUPPORT_CATCH_HPP

#ifdef CURVOP_CATCH_V3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

#endif  // CURVOP_TESTS_SUPPORT_CATCH_HPP
