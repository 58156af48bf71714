@NullMarked
package io.opendps.core.service;

import org.jspecify.annotations.NullMarked;
