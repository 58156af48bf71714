@NullMarked
package io.opendps.core.store.jdbc;

import org.jspecify.annotations.NullMarked;
