#!/usr/bin/env node
// Committed stub so that npm links the bin at install time, before the build makes dist/.
import "../dist/cli/main.js";
