@NullMarked
package io.opendps.core.json;

import org.jspecify.annotations.NullMarked;
