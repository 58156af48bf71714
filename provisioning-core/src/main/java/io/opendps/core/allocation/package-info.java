@NullMarked
package io.opendps.core.allocation;

import org.jspecify.annotations.NullMarked;
