@NullMarked
package io.opendps.core.error;

import org.jspecify.annotations.NullMarked;
