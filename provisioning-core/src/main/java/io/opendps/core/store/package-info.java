@NullMarked
package io.opendps.core.store;

import org.jspecify.annotations.NullMarked;
