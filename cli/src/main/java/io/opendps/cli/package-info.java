/** The {@code opendps} command line: server, administration and simulated devices. */
@NullMarked
package io.opendps.cli;

import org.jspecify.annotations.NullMarked;
