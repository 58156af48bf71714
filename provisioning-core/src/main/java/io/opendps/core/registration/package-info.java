@NullMarked
package io.opendps.core.registration;

import org.jspecify.annotations.NullMarked;
