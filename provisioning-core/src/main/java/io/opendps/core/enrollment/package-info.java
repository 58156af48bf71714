@NullMarked
package io.opendps.core.enrollment;

import org.jspecify.annotations.NullMarked;
